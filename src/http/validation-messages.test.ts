import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type client, type TestServer, startWithWorkspace } from '../../test/helpers.js';
import { fieldLabel, humanMessage } from './validation-messages.js';

/** Form errors in people's words (issue #10): a sentence per field, never a JSON path or a regular expression. */
let rapport: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('validation errors', () => {
  it("use the schema's own sentence for a bad tag, on the field's path", async () => {
    const c = (await api.post('/conversations', { customer: { email: 'tag@example.test' }, subject: 'Tags', message: { body: 'hi' } })).json();
    const res = await api.patch(`/conversations/${c.id}`, { tags: ['vip', '#urgent!'] });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([{ path: 'body.tags.1', message: 'Tags start with a letter or a digit and may use letters, digits, spaces and - _ . : /' }]);
  });

  it('say what is wrong with any other field in a sentence naming it, without a pattern or a path', async () => {
    const res = await api.post('/conversations', { customer: { email: 'not an address' }, subject: 'x'.repeat(501), message: { body: '' }, surprise: 1 });
    expect(res.statusCode).toBe(422);
    for (const e of res.json().errors as Array<{ path: string; message: string }>) {
      expect(e.message).not.toMatch(/[\^$\\/]|body\.|must match|must NOT/);
      expect(e.message).toMatch(/^[A-Z]/);
    }
  });

  it('words each keyword for its field', () => {
    expect(fieldLabel('body.snoozedUntil')).toBe('Snoozed until');
    expect(fieldLabel('body.tags.3')).toBe('Tags');
    expect(fieldLabel('querystring.assigneeId')).toBe('Assignee');
    expect(humanMessage({ keyword: 'maxLength', params: { limit: 500 } }, 'body.subject')).toBe('Subject must be at most 500 characters');
    expect(humanMessage({ keyword: 'minLength', params: { limit: 1 } }, 'body.message.body')).toBe('Message cannot be empty');
    expect(humanMessage({ keyword: 'format', params: { format: 'email' } }, 'body.customer.email')).toBe('Email must be an email address');
    expect(humanMessage({ keyword: 'required', params: { missingProperty: 'subject' } }, 'body.subject')).toBe('Subject is required');
    expect(humanMessage({ keyword: 'pattern', params: { pattern: '^[a-z]+$' } }, 'body.slug')).toBe('Slug has characters that are not allowed here');
    expect(humanMessage({ keyword: 'pattern', params: {}, parentSchema: { errorMessage: 'Use lower case' } }, 'body.slug')).toBe('Use lower case');
  });
});
