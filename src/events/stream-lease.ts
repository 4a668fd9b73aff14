/**
 * Leases under the per-creator cap on open event streams, shared by every API process. A lease
 * expires unless its process renews it, so the streams of a process that crashed stop counting
 * once their leases run out.
 */
export interface StreamLeases {
  /** A lease for one more of the creator's streams, or null when `max` live leases are held already. */
  acquire(creatorId: string, max: number): Promise<string | null>;
  /** Extends the leases of streams still open. */
  renew(leases: Array<{ creatorId: string; leaseId: string }>): Promise<void>;
  release(creatorId: string, leaseId: string): Promise<void>;
}
