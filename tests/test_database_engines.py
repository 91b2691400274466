"""Database on MySQL and MariaDB: what differs from PostgreSQL, and the safe defaults that do not."""

from __future__ import annotations

import pulumi
import pytest
from pydantic import ValidationError

from paaskit.cost import estimate, load_prices
from paaskit.database import (
    ENGINES,
    MARIADB_MAJORS,
    MYSQL_MAJORS,
    Database,
    DatabaseArgs,
    max_connections_estimate,
)
from paaskit.testing import plan

INSTANCE = "aws:rds/instance:Instance"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"

WIRING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "allowed_security_group_ids": ["sg-0nodes"],
}


def plan_db(**settings):
    return plan(lambda: Database("db", DatabaseArgs(**{**WIRING, **settings})))


def parameters(p):
    return {x["name"]: (x["value"], x["applyMethod"]) for x in p.one(PARAMS).inputs["parameters"]}


@pytest.mark.parametrize(
    ("engine", "major", "family"),
    [("mysql", "8.4", "mysql8.4"), ("mariadb", "11.8", "mariadb11.8")],
)
def test_the_newest_major_of_the_engine_with_postgres_safe_defaults(engine, major, family):
    p = plan_db(engine=engine)
    db = p.one(INSTANCE).inputs
    assert (db["engine"], db["engineVersion"], db["port"]) == (engine, major, 3306)
    assert p.one(PARAMS).inputs["family"] == family
    # The same safe defaults as PostgreSQL.
    assert db["manageMasterUserPassword"] is True
    assert "password" not in db
    assert db["storageEncrypted"] is True
    assert db["publiclyAccessible"] is False
    assert db["multiAz"] is True
    assert db["deletionProtection"] is True
    assert db["backupRetentionPeriod"] == 7
    assert db["copyTagsToSnapshot"] is True
    assert db["iamDatabaseAuthenticationEnabled"] is True
    assert db["autoMinorVersionUpgrade"] is True
    assert p.one(INSTANCE).protect is True


def test_only_the_nodes_reach_it_on_3306():
    (rule,) = plan_db(engine="mysql").of_type(INGRESS)
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (3306, 3306)
    assert rule.inputs["referencedSecurityGroupId"] == "sg-0nodes"


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_the_server_refuses_clear_text_and_logs_slow_queries(engine):
    values = parameters(plan_db(engine=engine, slow_query_ms=250))
    assert values["require_secure_transport"] == ("1", "immediate")
    assert values["slow_query_log"] == ("1", "immediate")
    assert values["long_query_time"] == ("0.25", "immediate")
    assert values["log_output"] == ("FILE", "immediate")
    # PostgreSQL's parameters never reach a MySQL family.
    assert not {"rds.force_ssl", "log_min_duration_statement", "shared_preload_libraries"} & set(
        values
    )


def test_mariadb_stores_utf8mb4_and_mysql_keeps_its_own_default():
    assert parameters(plan_db(engine="mariadb"))["character_set_server"][0] == "utf8mb4"
    assert "character_set_server" not in parameters(plan_db(engine="mysql"))


def test_no_slow_query_log_when_asked_and_static_parameters_wait_for_a_reboot():
    values = parameters(
        plan_db(engine="mysql", slow_query_ms=-1, parameters={"innodb_read_io_threads": 8})
    )
    assert values["slow_query_log"] == ("0", "immediate")
    assert "long_query_time" not in values
    assert values["innodb_read_io_threads"] == ("8", "pending-reboot")


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_the_error_and_slow_query_logs_are_exported_to_groups_made_first(engine):
    p = plan_db(engine=engine)
    db = p.one(INSTANCE)
    exports = db.inputs["enabledCloudwatchLogsExports"]
    assert exports == ["error", "slowquery", "iam-db-auth-error"]
    names = sorted(r.inputs["name"].rsplit("/", 1)[1] for r in p.of_type(LOG_GROUP))
    assert names == sorted(exports)
    assert all(g.urn in db.dependencies for g in p.of_type(LOG_GROUP))


def test_extended_support_is_chosen_for_mysql_and_never_sent_for_mariadb():
    mysql = plan_db(engine="mysql").one(INSTANCE).inputs
    assert mysql["engineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert "engineLifecycleSupport" not in plan_db(engine="mariadb").one(INSTANCE).inputs
    with pytest.raises(ValidationError, match="RDS offers no Extended Support for MariaDB"):
        DatabaseArgs(**WIRING, engine="mariadb", extended_support=True)


def test_a_retired_major_plans_only_when_extended_support_is_paid_for_and_warns_its_price():
    # MySQL 8.0 left standard support on 2026-07-31; RDS still creates it, in paid support.
    with pytest.raises(ValidationError, match="or set extended_support: true to pay for it"):
        DatabaseArgs(**WIRING, engine="mysql", engine_version="8.0")
    p = plan_db(engine="mysql", engine_version="8.0", extended_support=True)
    db = p.one(INSTANCE).inputs
    assert (db["engineVersion"], db["engineLifecycleSupport"]) == (
        "8.0",
        "open-source-rds-extended-support",
    )
    assert p.one(PARAMS).inputs["family"] == "mysql8.0"
    [warning] = [w["message"] for w in p.warnings]
    assert "MySQL 8.0 is past RDS's end of standard support (2026-07-31)" in warning
    assert "$0.10 per vCPU-hour" in warning
    assert "until 2029-07-31" in warning
    assert "pinned" not in warning
    # A pinned minor may not be one RDS keeps in Extended Support: said, not refused.
    pinned = plan_db(engine="mysql", engine_version="8.0.35", extended_support=True)
    assert "a pinned 8.0.35 may be refused; give '8.0'" in pinned.warnings[0]["message"]
    assert (
        plan_db(engine="postgres", engine_version="13", extended_support=True)
        .one(PARAMS)
        .inputs["family"]
        == "postgres13"
    )
    # Majors in standard support warn of nothing, and cost nothing more.
    assert plan_db(engine="mysql", extended_support=True).warnings == []
    assert not [
        line
        for line in estimate(plan_db(engine="mysql", extended_support=True)).lines
        if "Extended Support" in line.item
    ]
    # The estimate counts the surcharge, a standby's too, from the price table.
    [line] = [line for line in estimate(p).lines if "Extended Support" in line.item]
    table = load_prices()["rds_extended_support"]
    assert line.monthly == pytest.approx(2 * 2 * 730 * table["vcpu_hourly_years_1_2"])


@pytest.mark.parametrize(
    ("engine", "major", "until"),
    [
        ("mysql", "8.0", "2029-07-31"),
        ("mysql", "5.7", "2027-02-28"),  # 2024-02-29 + 3 years: no 29th of February in 2027
        ("postgres", "13", "2029-02-28"),
        ("mysql", "5.6", None),  # retired before Extended Support existed
        ("mariadb", "10.6", None),  # RDS has none for MariaDB
        ("mysql", "8.4", None),  # in standard support
    ],
)
def test_extended_support_lasts_three_years_past_the_end_of_standard_support(engine, major, until):
    assert ENGINES[engine].extended_until(major) == until


def test_a_retired_major_without_extended_support_is_refused_even_when_paid_for():
    with pytest.raises(ValidationError, match=r"MySQL 5\.6 left RDS standard support; RDS no"):
        DatabaseArgs(**WIRING, engine="mysql", engine_version="5.6", extended_support=True)


def test_performance_insights_is_off_where_rds_has_none_and_on_from_medium():
    micro = plan_db(engine="mysql").one(INSTANCE).inputs
    assert micro["performanceInsightsEnabled"] is False
    assert "performanceInsightsRetentionPeriod" not in micro
    medium = plan_db(engine="mysql", instance_class="db.t4g.medium").one(INSTANCE).inputs
    assert (medium["performanceInsightsEnabled"], medium["performanceInsightsRetentionPeriod"]) == (
        True,
        7,
    )
    with pytest.raises(
        ValidationError, match=r"no Performance Insights for MariaDB on db\.t4g\.small"
    ):
        DatabaseArgs(
            **WIRING, engine="mariadb", instance_class="db.t4g.small", performance_insights=True
        )
    # PostgreSQL has it on every class.
    assert plan_db().one(INSTANCE).inputs["performanceInsightsEnabled"] is True


def test_a_pinned_minor_turns_automatic_minor_upgrades_off():
    db = plan_db(engine="mysql", engine_version="8.4.5").one(INSTANCE).inputs
    assert (db["engineVersion"], db["autoMinorVersionUpgrade"]) == ("8.4.5", False)
    assert plan_db(engine="mariadb", engine_version="10.11").one(PARAMS).inputs["family"] == (
        "mariadb10.11"
    )


def test_the_connection_has_no_libpq_variables_and_the_password_only_as_pass():
    def program():
        conn = Database("db", DatabaseArgs(**WIRING, engine="mysql")).connection()
        pulumi.export("environment", conn.environment("MAIN"))
        pulumi.export("secrets", conn.secrets("MAIN"))

    outputs = plan(program).outputs
    assert sorted(e["name"] for e in outputs["environment"]) == [
        "MAIN_HOST",
        "MAIN_NAME",
        "MAIN_PORT",
        "MAIN_USER",
    ]
    assert {e["name"]: e["value"] for e in outputs["environment"]}["MAIN_PORT"] == "3306"
    assert [s["name"] for s in outputs["secrets"]] == ["MAIN_PASS"]


def test_alarms_speak_of_the_engine_and_its_connection_limit():
    p = plan_db(engine="mariadb", instance_class="db.t4g.medium", alarms_topic_arn=TOPIC)
    connections = next(a for a in p.of_type(ALARM) if a.name.endswith("-connections-alarm"))
    expected = max_connections_estimate("mariadb", "db.t4g.medium")
    assert connections.inputs["threshold"] == expected
    assert connections.inputs["alarmDescription"].startswith("MariaDB ")
    # MySQL's default limit, DBInstanceClassMemory/12582880, is below PostgreSQL's /9531392.
    assert expected is not None
    assert expected < (max_connections_estimate("postgres", "db.t4g.medium") or 0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"engine": "mysql", "engine_version": "8.0.35"},
            r"engine_version: MySQL 8\.0 left RDS standard support on 2026-07-31; a new "
            r"instance would be billed RDS Extended Support \(\$0\.10 per vCPU-hour.*\) until "
            r"2029-07-31; use one of 8\.4, or set extended_support: true to pay for it",
        ),
        (
            {"engine": "mariadb", "engine_version": "10.6"},
            r"MariaDB 10\.6 left RDS standard support on 2026-08-31; RDS no longer creates it "
            r"\(it has no Extended Support\); "
            r"use one of 10\.11, 11\.4, 11\.8",
        ),
        ({"engine": "mysql", "engine_version": "9.1"}, r"RDS does not offer MySQL 9\.1 \(as of"),
        ({"engine": "mysql", "engine_version": "18"}, r"'18' is not a MySQL version; give a major"),
        ({"engine": "mariadb", "database_name": "mysql"}, r"already exists on every RDS MariaDB"),
        ({"engine": "mysql", "database_name": "select"}, r"'select' is a MySQL reserved word"),
        ({"engine": "mysql", "username": "rdsadmin"}, r"reserved by RDS for MySQL"),
        ({"engine": "mysql", "username": "rds_ops"}, r"names starting with rds or mysql\. belong"),
        (
            {"engine": "mysql", "parameters": {"require_secure_transport": "0"}},
            r"require_secure_transport is always 1 here",
        ),
        ({"engine": "oracle-ee"}, r"engine"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        DatabaseArgs(**WIRING, **settings)


def test_mysql_takes_admin_as_its_master_user_where_postgresql_refuses_it():
    assert DatabaseArgs(**WIRING, engine="mysql", username="admin").username == "admin"
    with pytest.raises(ValidationError, match="reserved by RDS for PostgreSQL"):
        DatabaseArgs(**WIRING, username="admin")


def test_the_engine_tables_are_dated_and_name_their_families():
    for engine in ("mysql", "mariadb"):
        facts = ENGINES[engine]
        assert facts.majors_as_of == "2026-12"
        assert facts.default_major in facts.majors
        assert not set(facts.retired) & set(facts.majors)
    assert all(m.family == f"mysql{v}" for v, m in MYSQL_MAJORS.items())
    assert all(m.family == f"mariadb{v}" for v, m in MARIADB_MAJORS.items())
    assert {e.url_scheme for e in ENGINES.values()} == {"postgres", "mysql"}


def test_a_racks_shared_database_is_postgresql():
    from paaskit import RackArgs
    from paaskit.database import DatabaseSettings

    with pytest.raises(
        ValidationError,
        match=r"database\.engine: 'mysql'; the rack's shared database is PostgreSQL",
    ):
        RackArgs(database=DatabaseSettings(engine="mysql"))
