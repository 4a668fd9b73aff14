import { describeSharedEventStreams } from '../support/event-streams-e2e.js';

// Two API processes sharing one database, no Redis: the stream cap is counted in PostgreSQL.
describeSharedEventStreams('postgres');
