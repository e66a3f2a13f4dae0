/** Lock files and what is built on them: `hrank status` and `hrank diff`. */
export {
  LOCK_VERSION, LockError, buildLock, isLockPath, lockPathFor, parseLock, pipelineHash, readLock, serializeLock, settingsOf, writeLock,
  type LockFile, type LockPoint, type SettingValue,
} from './lockfile.js';
export { readLockKeys, type LockKeys } from './lock-keys.js';
export { engineReasons, showSetting, studyStatus, unchangedStatus, type PointChange, type Reason, type ReasonKind, type StudyState, type StudyStatus } from './status.js';
export {
  axisColumns, comparedColumns, diffPointSets, lockPoints, resultsFolderPoints, rowId, type PointDiff, type PointSet, type ResultsDiff,
} from './diff.js';
export { GitError, changedLockFiles, resolveRevision, showAtRevision } from './git.js';
