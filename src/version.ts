/** The tool's version, read from package.json (written into manifests, plans, journals and reports). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;
