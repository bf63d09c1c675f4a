# Sourced by scripts/ensure-*.sh: `apt_install <who> <package>...` installs Debian packages as root, or
# through `sudo -n`, and fails with one line naming <who> when neither is available.
apt_install() {
  local who="$1"
  shift
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo -n"
    else
      echo "$who: $* missing and neither root nor sudo is available" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "$@"
}
