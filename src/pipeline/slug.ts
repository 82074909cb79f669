/**
 * GitLab's `slugify` (ref, job name, project path): lowercase, every character outside `[a-z0-9]`
 * becomes `-` (no squeezing), the first 63 characters, leading and trailing `-` stripped.
 */
export function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
}
