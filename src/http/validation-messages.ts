/**
 * Validation errors in people's words, made once for every route: the web app shows `message` as it
 * is, beside the field `path` names, so it is a sentence about the field, never a JSON path or a
 * regular expression (ajv's own "must match pattern "^[\p{L}..." is neither).
 *
 * A schema may say it better itself with `errorMessage`: a sentence for any failure of that schema,
 * or one per keyword (`{ pattern: 'Tags may use …' }`); the validator keeps each failing schema on
 * the error (ajv `verbose`) so the sentence is found here. Otherwise the sentence is made from the
 * keyword, its parameters and the field's name ("Subject must be at most 500 characters").
 */

export interface AjvIssue {
  keyword: string;
  instancePath?: string;
  params?: Record<string, any>;
  message?: string;
  parentSchema?: Record<string, any>;
}

const FORMATS: Record<string, string> = {
  email: 'must be an email address',
  uuid: 'must be an id Rapport gave',
  'date-time': 'must be a date and time',
  date: 'must be a date',
  uri: 'must be a web address',
  url: 'must be a web address',
  hostname: 'must be a host name',
  ipv4: 'must be an IP address',
  ipv6: 'must be an IP address',
};

const TYPES: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'yes or no',
  array: 'a list',
  object: 'a group of fields',
  null: 'empty',
};

/** "snoozedUntil" → "Snoozed until"; a list's item ("tags/0") is named by its list ("Tags"), "message.body" by "Message". */
export function fieldLabel(path: string): string {
  const parts = path.split(/[./]/).filter((p) => p && !/^\d+$/.test(p));
  if (['body', 'querystring', 'params', 'headers'].includes(parts[0])) parts.shift();
  // A message's `body` is "Message" to the person who wrote it.
  const last = parts.length > 1 && (parts[parts.length - 1] === 'body' || parts[parts.length - 1] === 'value') ? parts[parts.length - 2] : parts[parts.length - 1];
  if (!last) return 'This';
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .replace(/\bid\b/g, '')
    .trim();
  return words ? words[0].toUpperCase() + words.slice(1) : 'This';
}

function own(issue: AjvIssue): string | null {
  const custom = issue.parentSchema?.errorMessage;
  if (typeof custom === 'string') return custom;
  if (custom && typeof custom === 'object' && typeof custom[issue.keyword] === 'string') return custom[issue.keyword];
  return null;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The sentence for one failure of a field (`path` is where it is, as the API reports it). */
export function humanMessage(issue: AjvIssue, path: string): string {
  const custom = own(issue);
  if (custom) return custom;
  const label = fieldLabel(path);
  const p = issue.params ?? {};
  switch (issue.keyword) {
    case 'required':
      return `${label} is required`;
    case 'additionalProperties':
      return `${label} is not a field Rapport knows here`;
    case 'minLength':
      return p.limit <= 1 ? `${label} cannot be empty` : `${label} must be at least ${plural(p.limit, 'character', 'characters')}`;
    case 'maxLength':
      return `${label} must be at most ${plural(p.limit, 'character', 'characters')}`;
    case 'minItems':
      return p.limit <= 1 ? `${label} needs at least one entry` : `${label} needs at least ${p.limit} entries`;
    case 'maxItems':
      return `${label} may hold at most ${plural(p.limit, 'entry', 'entries')}`;
    case 'uniqueItems':
      return `${label} lists the same value twice`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${label} must be ${issue.keyword === 'minimum' ? 'at least' : 'more than'} ${p.limit}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${label} must be ${issue.keyword === 'maximum' ? 'at most' : 'less than'} ${p.limit}`;
    case 'format':
      return `${label} ${FORMATS[p.format] ?? 'is not written the way Rapport expects'}`;
    case 'pattern':
      return `${label} has characters that are not allowed here`;
    case 'type':
      return `${label} must be ${TYPES[String(p.type).split(',')[0]] ?? 'of another kind'}`;
    case 'enum':
    case 'const':
    case 'anyOf':
    case 'oneOf':
      return `${label} is not one of the allowed choices`;
    case 'minProperties':
      return `${label} needs at least one change`;
    default:
      return `${label} is not valid`;
  }
}
