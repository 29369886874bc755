/** The folder of an output file must exist before any work is done (files are written last). */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

export async function checkOutputFolder(path: string, option: string): Promise<void> {
  const folder = dirname(resolve(path));
  const kind = await stat(folder).then(
    (st) => (st.isDirectory() ? 'dir' : 'other'),
    () => 'missing',
  );
  if (kind !== 'dir') {
    throw new InputError(
      option,
      'a path in an existing folder',
      `${path} (${folder} is ${kind === 'missing' ? 'missing' : 'not a folder'})`,
    );
  }
}
