// The sender block of a POST letter: the client's name and postal return address (never its e-mail address),
// read for every letter, so a change through the admin API shows on the next one.
import type { Knex } from 'knex';

export type LetterSender = { name: string; postalAddress: string | null };

export function createLetterSenders(knex: Knex) {
  return async (clientId: number): Promise<LetterSender> => {
    const r = await knex('clients').where({ id: clientId }).first('name', 'postal_address');
    return { name: r?.name ?? '', postalAddress: r?.postal_address ?? null };
  };
}
