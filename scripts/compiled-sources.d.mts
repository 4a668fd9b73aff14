/** Types of compiled-sources.mjs (plain JavaScript, as it runs before anything is compiled). */
export declare const SOURCE_FOLDERS: string[];
export declare const STAMP_FILE: string;
export declare const LOCK_FILE: string;
/** A hash of every source file's path and content, the settings and the compiler's own code. */
export declare function sourcesFingerprint(root: string): string;
/** The compiled copy of `file` (a source path relative to the root), e.g. src/main.ts → dist/src/main.js. */
export declare function compiledPath(root: string, file: string, outDir?: string): string;
/** Compiles the sources under `root` into `outDir` (dist) unless they are those compiled last. */
export declare function ensureCompiled(root: string, options?: { outDir?: string }): { state: 'fresh' | 'compiled'; seconds: number };
