/** The tool's version, read from package.json (written into manifests, plans, journals and reports). */
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './paths.ts';

export const TOOL_VERSION: string = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
