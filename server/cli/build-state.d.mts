/** Whether the production build is missing, older than its sources, or fresh. */
export function buildState(root: string): "missing" | "stale" | "fresh";
