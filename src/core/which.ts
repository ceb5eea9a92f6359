/** Finding executables; kept free of other imports so that every core module can use it. */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** First executable named `name` in `dirs` (absolute paths are checked as given). */
export function findBinary(name: string, dirs: readonly string[]): string | null {
  const candidates = name.includes('/') ? [name] : dirs.map((d) => join(d, name));
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}
