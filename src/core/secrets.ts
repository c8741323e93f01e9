// Keys handed to callers (client hash keys, portal keys): random, shown once, stored and looked up only as a SHA-256.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 160 random bits as hex: a key nobody guesses, short enough for a header or a SOAP field. */
export const generateKey = () => randomBytes(20).toString('hex');

/** What is stored for a key: its SHA-256 (hex). A 160-bit random key needs no slow hash; a look-up is by this value. */
export const keyHash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** Equal tokens in constant time: both sides are hashed first, so neither length nor content leaks by timing. */
export function tokenMatches(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
