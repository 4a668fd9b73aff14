import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Domain services must stay free of transport and infrastructure SDKs (see DESIGN.md, "Layout").
const infrastructure = ['fastify', 'fastify-*', '@fastify/*', 'grammy', 'bullmq', 'ioredis', 'pg', 'stripe', '@sendgrid/*', 'chromadb', 'ollama', '@aws-sdk/*'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'bench/results/', 'dashboard/dist/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through src/config.ts.' }],
    },
  },
  {
    files: ['src/conversation/**', 'src/billing/**', 'src/coaching/**', 'src/accounts/**', 'src/bots/**', 'src/knowledge/**', 'src/email/*.ts', 'src/email/templates/**', 'src/media/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: infrastructure, message: 'Services depend on ports, not SDKs; wire adapters in src/main.ts.' }, { group: ['**/http/**', '**/workers/**'], message: 'Services never import routes or workers.' }, { group: ['**/channels/**'], message: 'The engine owns the channel ports (src/conversation/channel.ports.ts); channels implement them, never the other way round.' }] }],
    },
  },
  {
    // channels/, rag/ and the adapters use the retry helper, so it must not reach back into them.
    files: ['src/retry/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/channels/**', '**/rag/**', '**/workers/**', '**/http/**'], message: 'The retry helper imports nothing of the channels, rag, workers or http.' }] }],
    },
  },
  {
    // The composition root builds each thing on what exists already: a closure reaching forward to a
    // later declaration would hide an order of construction the reader cannot see.
    files: ['src/platform.ts', 'src/composition/**'],
    rules: { '@typescript-eslint/no-use-before-define': 'error' },
  },
  {
    files: ['src/config.ts', 'test/**', 'bench/**', 'scripts/**', 'examples/**', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
