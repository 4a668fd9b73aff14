/**
 * Creates the embedded database's files (PGlite's initdb) under the directory given as argument,
 * then exits. Run by `openDatabase` in a process of its own on the platform's first start: initdb
 * takes two more WASM instances besides the database itself, several hundred MB that would stay
 * resident in the platform's process long after start-up, and leave with this process instead.
 */
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pglite-init.process <data directory>');
const db = await PGlite.create({ dataDir: dir });
await db.close();
