import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** Where npm installed @scalar/api-reference's self-contained browser build (the file its CDN serves). */
export function docsScriptFile(): string | null {
  try {
    return createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');
  } catch {
    return null;
  }
}

/**
 * /docs' script from the installed package (the version package-lock.json pins), read once at the
 * first request and kept; null when the package is missing (then /docs shows its fallback).
 */
export function nodeDocsScript(file: string | null = docsScriptFile()): () => Promise<ArrayBuffer | null> {
  let loaded: Promise<ArrayBuffer | null> | undefined;
  return () => {
    loaded ??= file
      ? readFile(file).then(
          (bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
          () => null,
        )
      : Promise.resolve(null);
    return loaded;
  };
}
