import { describeSharedEventStreams } from '../support/event-streams-e2e.js';

// Two API processes sharing one database and one Redis: the stream cap is counted in Redis.
describeSharedEventStreams('redis');
