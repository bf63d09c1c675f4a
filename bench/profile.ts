// Summarises a V8 .cpuprofile (from `npm run bench -- --only exchange --profile <dir>`): top functions
// by self and by inclusive time, and self time per package / source area.
// Usage: node --import tsx bench/profile.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --import tsx bench/profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(src|bench|examples)\//, '$1/')
    .replace(/\?.*$/, '');
const label = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
  `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const local = /\/(src|bench|examples)\/(.*?)(?:\?|$)/.exec(url);
  return local ? `${local[1]}/${local[2]!.split('/').slice(0, -1).join('/') || local[2]}` : url;
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const areas = new Map<string, number>();
let total = 0;
let idle = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const node = byId.get(id)!;
  total += delta;
  if (node.callFrame.functionName === '(idle)') idle += delta;
  self.set(label(node), (self.get(label(node)) ?? 0) + delta);
  areas.set(area(node), (areas.get(area(node)) ?? 0) + delta);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
  }
});

const busy = total - idle;
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
const msText = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const print = (
  title: string,
  map: Map<string, number>,
  count: number,
  skip: (name: string) => boolean = () => false,
) => {
  console.log(`\n${title}`);
  [...map]
    .filter(([name]) => !skip(name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .forEach(([name, us]) => {
      console.log(`${msText(us)} ${pct(us)}  ${name}`);
    });
};

console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)}%); percentages are of busy time`,
);
print('Self time by package / source area', areas, top, (name) => name === '(idle)');
print('Top functions by self time', self, top, (name) => name === '(idle)');
print(
  'Top functions by inclusive time (synchronous stacks only)',
  inclusive,
  top,
  (name) => name.startsWith('(root)') || name === '(idle)',
);
