import type { Environment } from '../../config/variable.js';
import type { BackendWiring } from '../backend.js';
import { DATA_DIR, rootKeySourceFromEnvironment } from '../config.js';
import { type FileConfig, openFileState } from './file-backend.js';

/**
 * `KMS_KEY_STORE=file`, the embedded default: one data directory (`KMS_DATA_DIR`) on one machine,
 * sealed under the root key, with the journal of used nonces beside the entries. Its variables are
 * the shared ones (../config.ts).
 */
export const fileBackend: BackendWiring<FileConfig> = {
  kind: 'file',
  variables: [],
  fromEnvironment: (env: Environment) => ({ dataDir: DATA_DIR.read(env), rootKey: rootKeySourceFromEnvironment(env) }),
  ownNonces: 'journal',
  perInstance: true,
  rootKey: (config) => config.rootKey,
  open: openFileState,
};
