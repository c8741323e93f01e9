// PORTAL (SPEC §4): a published message is shown to its recipient from then on; publishing again keeps the first time.
import type { Knex } from 'knex';

export function createPublisher(knex: Knex) {
  return async (messageId: number): Promise<void> => {
    await knex('messages').where({ id: messageId }).whereNull('published_at').update({ published_at: knex.fn.now() });
  };
}
