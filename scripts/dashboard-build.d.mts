/** Types of dashboard-build.mjs (plain JavaScript, as it runs before anything is compiled). */
/** Builds dashboard/ into dashboard/dist unless that holds the build of these very sources. */
export declare function ensureDashboardBuilt(root: string): Promise<{ state: 'absent' | 'fresh' | 'built'; seconds: number }>;
