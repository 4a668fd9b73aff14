// Which folder may import which (DESIGN.md, "Layout and what may import what"), checked by
// `npm run lint`. madge finds cycles between modules; these rules also find cycles between folders
// (a imports b here, b imports a there) and imports that run against the design's direction.

// The composition root: the only place adapters meet services.
const compositionRoot = '^src/(main|platform)[.]ts$|^src/composition/';
// Domain services: typed input, plain data out, their own ports.
const services = '^src/(conversation|billing|coaching|accounts|bots|knowledge|email|media)/';
// Leaves every layer may use; they import nothing of ours but other leaves.
const leaves = '^src/(config[.]ts$|errors/|text/|cache/|postgres/|http-client/|retry/|pubsub/|events/)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'No two folders import each other in both directions, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'composition-root-is-imported-by-no-one',
      comment: 'Only the composition root wires features together; nothing depends on the wiring.',
      severity: 'error',
      from: { pathNot: compositionRoot },
      to: { path: compositionRoot },
    },
    {
      name: 'channels-only-from-edges',
      comment: 'Channels are adapters: the composition root, webhook routes and workers use them; the engine owns the ports they implement.',
      severity: 'error',
      from: { path: '^src/', pathNot: `${compositionRoot}|^src/http/routes/` },
      to: { path: '^channels/' },
    },
    {
      name: 'channels-import-only-ports',
      comment: 'Channels see the engine through its channel ports, plus the shared leaves.',
      severity: 'error',
      from: { path: '^channels/' },
      to: { path: '^src/', pathNot: `^src/conversation/channel[.]ports[.]ts$|${leaves}` },
    },
    {
      name: 'rag-never-imports-the-platform',
      comment: 'rag/ owns the retrieval ports (rag/types.ts); src/db implements them, so rag never imports src/db or services.',
      severity: 'error',
      from: { path: '^rag/' },
      to: { path: '^src/', pathNot: leaves },
    },
    {
      name: 'services-stay-pure',
      comment: 'Services depend on their own ports: never on routes, workers, channels, storage, queues or wiring.',
      severity: 'error',
      from: { path: services },
      to: { path: `^(channels|workers)/|^src/(http|db|jobs|llm|payments|demo|observability)/|^src/config[.]ts$|${compositionRoot}` },
    },
    {
      name: 'db-implements-ports-only',
      comment: 'Repositories implement the ports of services and rag; they never reach up to transport, queues or wiring.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: `^(channels|workers)/|^src/(http|jobs|llm|payments|demo)/|${compositionRoot}` },
    },
    {
      name: 'llm-serves-the-engine-only',
      comment: 'The model adapters serve the engine (its LlmPort and text helpers) and use nothing else of ours but the leaves.',
      severity: 'error',
      from: { path: '^src/llm/' },
      to: { path: '^(src|channels|rag|workers)/', pathNot: `^src/(llm|conversation)/|${leaves}` },
    },
    {
      name: 'http-and-workers-are-entry-points',
      comment: 'Routes and workers are called by the composition root, never by services, adapters or each other.',
      severity: 'error',
      from: { pathNot: `${compositionRoot}|^src/http/|^workers/` },
      to: { path: '^src/http/|^workers/' },
    },
    {
      name: 'routes-and-workers-stay-apart',
      comment: 'A route never runs a worker and a worker never calls a route; both go through services and queues.',
      severity: 'error',
      from: { path: '^(src/http|workers)/' },
      to: { path: '^(src/http|workers)/', pathNot: '^$1/' },
    },
    {
      name: 'leaves-import-nothing-of-ours',
      comment: 'config, errors, storable text, the per-bot cache, Postgres helpers, the HTTP client, the retry policy, the topic bus and the bot events sit under everything: they import nothing of ours but each other.',
      severity: 'error',
      from: { path: leaves },
      to: { path: '^(src|channels|rag|workers)/', pathNot: '^src/(errors|text|cache|postgres|http-client|retry|pubsub|events)/' },
    },
  ],
  options: {
    includeOnly: '^(src|channels|rag|workers)/',
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports bind folders together as much as value imports do.
    tsPreCompilationDeps: true,
  },
};
