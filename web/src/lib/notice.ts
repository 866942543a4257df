/** A one-shot message for the login screen ("your session expired"). */
let notice: string | null = null;
export function setNotice(text: string | null): void {
  notice = text;
}
export function takeNotice(): string | null {
  const n = notice;
  notice = null;
  return n;
}
