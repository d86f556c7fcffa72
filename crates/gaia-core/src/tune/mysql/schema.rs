//! The tables and procedures of a study in MariaDB/MySQL.
//!
//! Optuna's tables come first, exactly as Optuna 5.0 creates them (its RDB schema
//! `v3.2.0.a`), so that `optuna.load_study(storage=url)` and optuna-dashboard read a Gaia
//! study as it is. Gaia adds four tables of its own, which Optuna never reads:
//!
//! * `gaia_studies`: per study, Gaia's definition (space, direction, constraints, sampler)
//!   and two counters, the next trial number and the next change sequence. Its row is the
//!   study's lock: every write transaction takes it first, so trial numbers are dense and
//!   changes commit in sequence order.
//! * `gaia_log`: every change (ask, tell, report, enqueue, add) as the same JSON record a journal
//!   file holds, by `(study_id, seq)`. A worker's replica reads the rows after its cursor.
//! * `gaia_queue`: enqueued configurations not handed out yet (popped inside the ask
//!   transaction, so no two workers get the same one).
//! * `gaia_schema`: the version of Gaia's part of the schema.
//!
//! and one index on Optuna's `trials`, `(study_id, number)`, so a tell finds its trial by
//! number without a scan. Asks and tells are stored procedures: one statement and one
//! round trip each, which also returns the changes the worker has not seen yet. An ask
//! writes its trial row before it takes the study's lock and everything else under it; a
//! tell finishes its trial before it takes the lock, only to write the log record. Every
//! transaction takes the study's lock before any queue row and no ask or tell deletes
//! rows another may be inserting next to, so they do not deadlock among themselves (the
//! 16-worker stress test counts InnoDB's deadlocks; the library still retries a deadlock
//! or lock-wait timeout, which other clients of the database can cause).

/// The Alembic revision of the Optuna schema these tables are (Optuna 3.2 to 5.0).
pub(crate) const OPTUNA_ALEMBIC: &str = "v3.2.0.a";
/// Optuna's `version_info.schema_version` for that revision.
pub(crate) const OPTUNA_SCHEMA_VERSION: i64 = 12;
/// The Optuna release whose schema this is (what `version_info.library_version` records).
pub(crate) const OPTUNA_LIBRARY_VERSION: &str = "5.0.0";
/// The version of Gaia's own tables and procedures.
/// Version 2: the ask and tell procedures take the study's lock last (`_v2`); tables as in
/// version 1, whose procedures stay for workers of that version. Version 3: the tell
/// procedure takes one value per objective (`gaia_tell_v3`); reports of intermediate values
/// go to Optuna's `trial_intermediate_values`. Version 4: the ask procedure writes the
/// parameters once, under the study's lock (`gaia_ask_v3`, see [`ASK_PROCEDURE`]).
pub(crate) const GAIA_SCHEMA_VERSION: i64 = 4;

const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci";

/// Optuna's tables (`CREATE TABLE IF NOT EXISTS`: a schema Optuna made is kept as it is).
fn optuna_tables() -> Vec<String> {
    let t = |body: &str| format!("CREATE TABLE IF NOT EXISTS {body} {TABLE_OPTIONS}");
    vec![
        t("alembic_version (version_num varchar(32) NOT NULL, PRIMARY KEY (version_num))"),
        t("studies (study_id int(11) NOT NULL AUTO_INCREMENT, study_name varchar(512) NOT NULL,
           PRIMARY KEY (study_id), UNIQUE KEY ix_studies_study_name (study_name))"),
        t("study_directions (study_direction_id int(11) NOT NULL AUTO_INCREMENT,
           direction enum('NOT_SET','MINIMIZE','MAXIMIZE') NOT NULL, study_id int(11) NOT NULL,
           objective int(11) NOT NULL, PRIMARY KEY (study_direction_id),
           UNIQUE KEY study_id (study_id, objective),
           CONSTRAINT study_directions_ibfk_1 FOREIGN KEY (study_id) REFERENCES studies (study_id))"),
        t("study_system_attributes (study_system_attribute_id int(11) NOT NULL AUTO_INCREMENT,
           study_id int(11) DEFAULT NULL, `key` varchar(512) DEFAULT NULL, value_json text DEFAULT NULL,
           PRIMARY KEY (study_system_attribute_id), UNIQUE KEY study_id (study_id, `key`),
           CONSTRAINT study_system_attributes_ibfk_1 FOREIGN KEY (study_id) REFERENCES studies (study_id))"),
        t("study_user_attributes (study_user_attribute_id int(11) NOT NULL AUTO_INCREMENT,
           study_id int(11) DEFAULT NULL, `key` varchar(512) DEFAULT NULL, value_json text DEFAULT NULL,
           PRIMARY KEY (study_user_attribute_id), UNIQUE KEY study_id (study_id, `key`),
           CONSTRAINT study_user_attributes_ibfk_1 FOREIGN KEY (study_id) REFERENCES studies (study_id))"),
        t("trials (trial_id int(11) NOT NULL AUTO_INCREMENT, number int(11) DEFAULT NULL,
           study_id int(11) DEFAULT NULL,
           state enum('RUNNING','COMPLETE','PRUNED','FAIL','WAITING') NOT NULL,
           datetime_start datetime DEFAULT NULL, datetime_complete datetime DEFAULT NULL,
           PRIMARY KEY (trial_id), KEY ix_trials_study_id (study_id),
           CONSTRAINT trials_ibfk_1 FOREIGN KEY (study_id) REFERENCES studies (study_id))"),
        t("trial_heartbeats (trial_heartbeat_id int(11) NOT NULL AUTO_INCREMENT,
           trial_id int(11) NOT NULL, heartbeat datetime NOT NULL, PRIMARY KEY (trial_heartbeat_id),
           UNIQUE KEY trial_id (trial_id),
           CONSTRAINT trial_heartbeats_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("trial_intermediate_values (trial_intermediate_value_id int(11) NOT NULL AUTO_INCREMENT,
           trial_id int(11) NOT NULL, step int(11) NOT NULL, intermediate_value double DEFAULT NULL,
           intermediate_value_type enum('FINITE','INF_POS','INF_NEG','NAN') NOT NULL,
           PRIMARY KEY (trial_intermediate_value_id), UNIQUE KEY trial_id (trial_id, step),
           CONSTRAINT trial_intermediate_values_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("trial_params (param_id int(11) NOT NULL AUTO_INCREMENT, trial_id int(11) DEFAULT NULL,
           param_name varchar(512) DEFAULT NULL, param_value double DEFAULT NULL,
           distribution_json text DEFAULT NULL, PRIMARY KEY (param_id),
           UNIQUE KEY trial_id (trial_id, param_name),
           CONSTRAINT trial_params_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("trial_system_attributes (trial_system_attribute_id int(11) NOT NULL AUTO_INCREMENT,
           trial_id int(11) DEFAULT NULL, `key` varchar(512) DEFAULT NULL, value_json text DEFAULT NULL,
           PRIMARY KEY (trial_system_attribute_id), UNIQUE KEY trial_id (trial_id, `key`),
           CONSTRAINT trial_system_attributes_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("trial_user_attributes (trial_user_attribute_id int(11) NOT NULL AUTO_INCREMENT,
           trial_id int(11) DEFAULT NULL, `key` varchar(512) DEFAULT NULL, value_json text DEFAULT NULL,
           PRIMARY KEY (trial_user_attribute_id), UNIQUE KEY trial_id (trial_id, `key`),
           CONSTRAINT trial_user_attributes_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("trial_values (trial_value_id int(11) NOT NULL AUTO_INCREMENT, trial_id int(11) NOT NULL,
           objective int(11) NOT NULL, value double DEFAULT NULL,
           value_type enum('FINITE','INF_POS','INF_NEG') NOT NULL, PRIMARY KEY (trial_value_id),
           UNIQUE KEY trial_id (trial_id, objective),
           CONSTRAINT trial_values_ibfk_1 FOREIGN KEY (trial_id) REFERENCES trials (trial_id))"),
        t("version_info (version_info_id int(11) NOT NULL, schema_version int(11) DEFAULT NULL,
           library_version varchar(256) DEFAULT NULL, PRIMARY KEY (version_info_id),
           CONSTRAINT CONSTRAINT_1 CHECK (version_info_id = 1))"),
    ]
}

/// Gaia's tables, its index on `trials`, and the version rows.
fn gaia_tables() -> Vec<String> {
    let t = |body: &str| {
        format!("CREATE TABLE IF NOT EXISTS {body} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
    };
    vec![
        t("gaia_schema (id int NOT NULL PRIMARY KEY, version int NOT NULL, CHECK (id = 1))"),
        t("gaia_studies (study_id int(11) NOT NULL PRIMARY KEY, definition longtext NOT NULL,
           next_number int NOT NULL DEFAULT 0, next_seq bigint NOT NULL DEFAULT 1,
           CONSTRAINT gaia_studies_study FOREIGN KEY (study_id) REFERENCES studies (study_id))"),
        t("gaia_log (study_id int(11) NOT NULL, seq bigint NOT NULL, op longtext NOT NULL,
           PRIMARY KEY (study_id, seq))"),
        t("gaia_queue (study_id int(11) NOT NULL, seq bigint NOT NULL, internal longtext NOT NULL,
           params longtext NOT NULL, PRIMARY KEY (study_id, seq))"),
        "CREATE INDEX IF NOT EXISTS gaia_trials_study_number ON trials (study_id, number)".into(),
    ]
}

/// `gaia_ask_v3(study, cursor, internal, params)`: in one transaction, writes the trial
/// (RUNNING, no number yet), then takes the study's lock: pops the oldest enqueued
/// configuration if there is one, writes the trial's parameters (the popped ones or
/// `params`), gives the trial the next number and writes the log record. Returns
/// `(number, trial_id, seq)`, then every log row after `cursor`. (The first heartbeat is
/// the trial's start time; the worker's heartbeat task writes later ones.)
///
/// The parameters are written under the study's lock, once. Version 2 wrote them before
/// the lock and, when it popped a configuration, deleted and rewrote them under it: that
/// delete's next-key lock on `trial_params` and the rewrite's AUTO-INC lock deadlocked
/// with every concurrent ask that had written its parameters and waited for the study's
/// lock (InnoDB's deadlock report in `SHOW ENGINE INNODB STATUS` shows the cycle), so
/// workers starting together on an enqueued study could exhaust their retries.
const ASK_PROCEDURE: &str = r#"
CREATE OR REPLACE PROCEDURE gaia_ask_v3(IN p_study INT, IN p_cursor BIGINT,
    IN p_internal LONGTEXT, IN p_params LONGTEXT)
MODIFIES SQL DATA
BEGIN
  DECLARE v_num INT DEFAULT NULL;
  DECLARE v_seq BIGINT DEFAULT NULL;
  DECLARE v_tid INT DEFAULT NULL;
  DECLARE v_qseq BIGINT DEFAULT NULL;
  DECLARE v_internal LONGTEXT DEFAULT NULL;
  DECLARE v_params LONGTEXT DEFAULT NULL;
  DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  START TRANSACTION;
  INSERT INTO trials (number, study_id, state, datetime_start)
    VALUES (NULL, p_study, 'RUNNING', UTC_TIMESTAMP());
  SET v_tid = LAST_INSERT_ID();
  SELECT next_number, next_seq INTO v_num, v_seq FROM gaia_studies
    WHERE study_id = p_study FOR UPDATE;
  IF v_seq IS NULL THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'gaia: the study no longer exists';
  END IF;
  SELECT seq, internal, params INTO v_qseq, v_internal, v_params FROM gaia_queue
    WHERE study_id = p_study ORDER BY seq LIMIT 1 FOR UPDATE;
  IF v_qseq IS NULL THEN
    SET v_internal = p_internal;
    SET v_params = p_params;
  ELSE
    DELETE FROM gaia_queue WHERE study_id = p_study AND seq = v_qseq;
  END IF;
  INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json)
    SELECT v_tid, j.n, j.v, j.d FROM JSON_TABLE(v_params, '$[*]' COLUMNS (
      n VARCHAR(512) PATH '$.n', v DOUBLE PATH '$.v', d TEXT PATH '$.d')) AS j;
  UPDATE trials SET number = v_num WHERE trial_id = v_tid;
  INSERT INTO gaia_log (study_id, seq, op) VALUES (p_study, v_seq,
    CONCAT('{"op":"ask","id":', v_num, ',"internal":', v_internal, ',"queued":',
           IF(v_qseq IS NULL, 'false', 'true'), '}'));
  UPDATE gaia_studies SET next_number = v_num + 1, next_seq = v_seq + 1
    WHERE study_id = p_study;
  COMMIT;
  SELECT v_num AS number, v_tid AS trial_id, v_seq AS seq;
  SELECT seq, op FROM gaia_log WHERE study_id = p_study AND seq > p_cursor ORDER BY seq;
END
"#;

/// `gaia_tell_v3(study, cursor, number, state, values, constraints, op)`: locks the trial's
/// row (by primary key), finishes it if RUNNING (state, completion time, its values (a JSON
/// array, one per objective), its
/// constraint values as Optuna's `constraints` system attribute), then takes the study's
/// lock only to write the log record `op`. Returns `(status, state, value, seq)`, status 0
/// done, 1 no such trial, 2 already finished (nothing written; `seq` is then the next
/// sequence, so every change before the call is below it), then every log row after
/// `cursor`.
const TELL_PROCEDURE: &str = r#"
CREATE OR REPLACE PROCEDURE gaia_tell_v3(IN p_study INT, IN p_cursor BIGINT,
    IN p_number INT, IN p_state VARCHAR(16), IN p_values LONGTEXT, IN p_constraints LONGTEXT,
    IN p_op LONGTEXT)
MODIFIES SQL DATA
BEGIN
  DECLARE v_seq BIGINT DEFAULT NULL;
  DECLARE v_tid INT DEFAULT NULL;
  DECLARE v_state VARCHAR(16) DEFAULT NULL;
  DECLARE v_status INT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
  START TRANSACTION;
  SELECT trial_id INTO v_tid FROM trials WHERE study_id = p_study AND number = p_number;
  IF v_tid IS NOT NULL THEN
    SELECT state INTO v_state FROM trials WHERE trial_id = v_tid FOR UPDATE;
  END IF;
  IF v_tid IS NULL OR v_state <> 'RUNNING' THEN
    SET v_status = IF(v_tid IS NULL, 1, 2);
    ROLLBACK;
    SELECT next_seq INTO v_seq FROM gaia_studies WHERE study_id = p_study;
  ELSE
    UPDATE trials SET state = p_state, datetime_complete = UTC_TIMESTAMP()
      WHERE trial_id = v_tid;
    IF p_state = 'COMPLETE' THEN
      INSERT INTO trial_values (trial_id, objective, value, value_type)
        SELECT v_tid, j.k - 1, j.v, 'FINITE' FROM JSON_TABLE(p_values, '$[*]' COLUMNS (
          k FOR ORDINALITY, v DOUBLE PATH '$')) AS j;
    END IF;
    IF p_constraints IS NOT NULL THEN
      INSERT INTO trial_system_attributes (trial_id, `key`, value_json)
        VALUES (v_tid, 'constraints', p_constraints);
    END IF;
    SELECT next_seq INTO v_seq FROM gaia_studies WHERE study_id = p_study FOR UPDATE;
    IF v_seq IS NULL THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'gaia: the study no longer exists';
    END IF;
    INSERT INTO gaia_log (study_id, seq, op) VALUES (p_study, v_seq, p_op);
    UPDATE gaia_studies SET next_seq = v_seq + 1 WHERE study_id = p_study;
    COMMIT;
    SET v_state = p_state;
  END IF;
  SELECT v_status AS status, v_state AS state, NULL AS value, v_seq AS seq;
  SELECT seq, op FROM gaia_log WHERE study_id = p_study AND seq > p_cursor ORDER BY seq;
END
"#;

/// Every statement that creates or upgrades the schema, in order. Each is idempotent; the
/// caller runs them under a named lock so concurrent first starts do not race.
pub(crate) fn migration() -> Vec<String> {
    let mut out = optuna_tables();
    out.extend(gaia_tables());
    out.push(format!(
        "INSERT IGNORE INTO version_info (version_info_id, schema_version, library_version) \
         VALUES (1, {OPTUNA_SCHEMA_VERSION}, '{OPTUNA_LIBRARY_VERSION}')"
    ));
    out.push(ASK_PROCEDURE.trim().to_owned());
    out.push(TELL_PROCEDURE.trim().to_owned());
    out
}
