/** Where the files tuneloop ships for this toolset live, from src/sched (tests) or dist/sched (built). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCHEDULERS_DIR = join(PACKAGE_ROOT, 'schedulers');
export const CATALOG_PATH = join(SCHEDULERS_DIR, 'catalog.json');
export const INCLUDE_DIR = join(SCHEDULERS_DIR, 'include');
export const TEMPLATES_DIR = join(SCHEDULERS_DIR, 'templates');
export const NATIVE_SOURCES_DIR = join(PACKAGE_ROOT, 'tools', 'sched');
