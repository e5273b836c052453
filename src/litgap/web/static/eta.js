// A running job's stage and ETA as one short text, shared by the job list and the job
// page. The server measures the rate (eta_seconds, null while unknown); this only words it.

export function etaText(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "";
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return "less than a minute left";
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  return `about ${hours} h ${minutes % 60} min left`;
}

export function progressText(job) {
  const percent = Math.max(0, Math.min(100, Number(job.progress || 0)));
  const parts = [`${Math.round(percent)} %`];
  if (job.stage) parts.push(job.stage);
  const eta = job.status === "running" ? etaText(job.eta_seconds) : "";
  if (eta) parts.push(eta);
  return parts.join(" · ");
}
