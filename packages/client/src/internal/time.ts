/** UTC `yyyy-MM-ddTHH:mm:ssZ`: the date format of every KMS response, timestamp and signature header. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
