// A client's name, as a letter's sender block shows it; names are read once per process (a rename shows after a restart).
import type { Knex } from 'knex';

export function createClientNames(knex: Knex) {
  const names = new Map<number, string>();
  return async (clientId: number): Promise<string> => {
    if (!names.has(clientId)) names.set(clientId, (await knex('clients').where({ id: clientId }).first('name'))?.name ?? '');
    return names.get(clientId)!;
  };
}
