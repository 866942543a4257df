import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { authErrors } from './auth.errors.js';

/**
 * What a new password must be (SECURITY A8, issue #8 L5): not among the commonest passwords and not
 * trivially guessable, judged by zxcvbn's estimate of the guesses it takes (its dictionaries ship in
 * npm, so this works offline). Length alone is not the test: "aaaaaaaaaaaa" is long and weak, and a
 * long passphrase of ordinary words passes. Score 3 means "safely unguessable" for an online attack
 * (about 10^8 guesses), which is what a throttled sign-in faces.
 */
const MIN_SCORE = 3;
// zxcvbn's matching grows faster than linearly with length; the first 100 characters decide, and a
// longer passphrase only adds to what they already give.
const ANALYSED_CHARS = 100;

let factory: ZxcvbnFactory | null = null;
const estimator = () => (factory ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations }));

/** Throws `auth.weak_password` (422) with a message a person can act on. `related` are the person's email and name. */
export function checkPasswordStrength(password: string, related: string[] = []): void {
  const inputs = related.flatMap((r) => [r, ...r.toLowerCase().split(/[^a-z0-9]+/)]).filter((r) => r.length >= 3);
  const result = estimator().check(password.slice(0, ANALYSED_CHARS), inputs);
  if (result.score >= MIN_SCORE) return;
  const hint = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
  throw authErrors.weakPassword(`This password is too easy to guess. ${hint || 'Add more words that are less common.'} A few unrelated words make a strong passphrase.`);
}
