// Prepared statements of a member database, created once per connection.
import type Database from 'better-sqlite3'

/** @internal All statements of one connection. */
export function prepareStatements(db: Database.Database) {
  const s = {
    entryRange: db.prepare('SELECT idx, term, type, data FROM raft_entry WHERE idx >= ? AND idx < ? ORDER BY idx'),
    entryTerm: db.prepare('SELECT term FROM raft_entry WHERE idx = ?').pluck(),
    // Two subqueries: SQLite optimises a lone min() or max() to one index seek, but min() and max() together scan the table.
    entryBounds: db.prepare('SELECT (SELECT min(idx) FROM raft_entry) AS first, (SELECT max(idx) FROM raft_entry) AS last'),
    entryInsert: db.prepare('INSERT INTO raft_entry (idx, term, type, data) VALUES (?, ?, ?, ?)'),
    entryDeleteFrom: db.prepare('DELETE FROM raft_entry WHERE idx >= ?'),
    entryDeleteBelow: db.prepare('DELETE FROM raft_entry WHERE idx < ?'),
    entryDeleteAll: db.prepare('DELETE FROM raft_entry'),
    entryClearData: db.prepare("UPDATE raft_entry SET data = x'', type = 0 WHERE idx = ?"),
    hardStateGet: db.prepare('SELECT term, vote, commit_index FROM raft_state WHERE id = 1'),
    hardStateSet: db.prepare('UPDATE raft_state SET term = ?, vote = ?, commit_index = ? WHERE id = 1'),
    snapshotGet: db.prepare('SELECT idx, term, conf_state, data FROM raft_snapshot WHERE id = 1'),
    snapshotSet: db.prepare('UPDATE raft_snapshot SET idx = ?, term = ?, conf_state = ?, data = ? WHERE id = 1'),
    memberMetaGet: db.prepare('SELECT value FROM member_meta WHERE name = ?').pluck(),
    memberMetaSet: db.prepare('INSERT INTO member_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    memberPut: db.prepare(
      'INSERT INTO member (id, name, peer_urls, client_urls, is_learner) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, peer_urls = excluded.peer_urls, client_urls = excluded.client_urls, is_learner = excluded.is_learner',
    ),
    memberDelete: db.prepare('DELETE FROM member WHERE id = ?'),
    memberAll: db.prepare('SELECT id, name, peer_urls, client_urls, is_learner FROM member'),
    memberRemovedPut: db.prepare('INSERT OR IGNORE INTO member_removed (id) VALUES (?)'),
    memberRemovedGet: db.prepare('SELECT 1 FROM member_removed WHERE id = ?').pluck(),
    kvGet: db.prepare('SELECT main, sub, tombstone, key, value, create_revision, mod_revision, version, CAST(lease AS TEXT) AS lease FROM mvcc_kv WHERE main = ? AND sub = ?'),
    kvRange: db.prepare('SELECT main, sub, tombstone, key, value, create_revision, mod_revision, version, CAST(lease AS TEXT) AS lease FROM mvcc_kv WHERE main >= ? AND main < ? ORDER BY main, sub LIMIT ?'),
    kvAll: db.prepare('SELECT main, sub, tombstone, key, value, create_revision, mod_revision, version, CAST(lease AS TEXT) AS lease FROM mvcc_kv ORDER BY main, sub'),
    kvIndexScan: db.prepare('SELECT main, sub, tombstone, key, create_revision, version, CAST(lease AS TEXT) AS lease FROM mvcc_kv ORDER BY main, sub').raw(true),
    kvInsert: db.prepare(
      'INSERT INTO mvcc_kv (main, sub, tombstone, key, value, create_revision, mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    kvRevisionsUpTo: db.prepare('SELECT main, sub FROM mvcc_kv WHERE main <= ? ORDER BY main, sub'),
    kvDelete: db.prepare('DELETE FROM mvcc_kv WHERE main = ? AND sub = ?'),
    mvccMetaGet: db.prepare('SELECT value FROM mvcc_meta WHERE name = ?').pluck(),
    mvccMetaSet: db.prepare('INSERT INTO mvcc_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    leaseAll: db.prepare('SELECT id, ttl, remaining_ttl FROM mvcc_lease ORDER BY id').safeIntegers(true),
    leasePut: db.prepare('INSERT INTO mvcc_lease (id, ttl, remaining_ttl) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, remaining_ttl = excluded.remaining_ttl'),
    leaseDelete: db.prepare('DELETE FROM mvcc_lease WHERE id = ?'),
    alarmAll: db.prepare('SELECT member_id, alarm FROM mvcc_alarm ORDER BY member_id, alarm'),
    alarmPut: db.prepare('INSERT OR IGNORE INTO mvcc_alarm (member_id, alarm) VALUES (?, ?)'),
    alarmDelete: db.prepare('DELETE FROM mvcc_alarm WHERE member_id = ? AND alarm = ?'),
  }
  return s
}

/** @internal */
export type Statements = ReturnType<typeof prepareStatements>
