/**
 * Macro placeholders: `{{customer.first_name}}`, optionally with a fallback for an empty value:
 * `{{customer.first_name | there}}`. The set is closed: a macro that names an unknown placeholder is
 * refused when saved (a typo would otherwise reach a customer as "{{custmer.name}}").
 *
 * Values are plain text and the result is plain text: the composer shows it as text and it is stored
 * as the message's text body, so a customer called `<script>…` is just a strange name, never markup.
 */
export const PLACEHOLDERS = [
  'customer.name',
  'customer.first_name',
  'customer.last_name',
  'customer.email',
  'customer.phone',
  'conversation.number',
  'conversation.subject',
  'agent.name',
  'agent.first_name',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Record<Placeholder, string | null>;

const KNOWN = new Set<string>(PLACEHOLDERS);
// Names are lowercase dotted words; the fallback is any text without braces, at most 200 characters.
const PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\|\s*([^{}]{0,200}?)\s*)?\}\}/g;

/** Placeholders the body names that Rapport does not know. */
export function unknownPlaceholders(body: string): string[] {
  const unknown = new Set<string>();
  for (const m of body.matchAll(PATTERN)) if (!KNOWN.has(m[1])) unknown.add(m[1]);
  return [...unknown];
}

export function render(body: string, values: PlaceholderValues): string {
  return body.replace(PATTERN, (whole, name: string, fallback: string | undefined) => {
    if (!KNOWN.has(name)) return whole;
    const value = values[name as Placeholder];
    return value && value.trim() !== '' ? value : (fallback ?? '');
  });
}

export function firstName(name: string | null): string | null {
  return name?.trim().split(/\s+/)[0] ?? null;
}

export function lastName(name: string | null): string | null {
  const parts = name?.trim().split(/\s+/) ?? [];
  return parts.length > 1 ? parts.slice(1).join(' ') : null;
}
