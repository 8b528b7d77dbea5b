//! Pipelines: readers, built-ins and the resolved rules they produce.
//!
//! Corpus-free tests use the fixtures in `tests/fixtures/pipeline/`; the others read the shared
//! corpus from `SIGWATCH_DATA` and skip (with a note) when it is unset, unless
//! `SIGWATCH_REQUIRE_DATA=1`.

use std::path::Path;
use std::sync::Arc;

use sigma::pipeline::{self, Chain, Pipeline, ResolvedRule, builtin, native, render};
use sigma::rule::{Rule, SelectionNode};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pipeline");

fn fixture_rule(name: &str) -> Rule {
    let path = format!("{FIXTURES}/{name}");
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let mut loaded = sigma::load_str(&text, &format!("fixtures/{name}"));
    assert!(
        loaded.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        loaded.diagnostics
    );
    loaded.rules.remove(0)
}

fn builtin_chain(names: &[&str]) -> Chain {
    let ps = names
        .iter()
        .map(|n| builtin::get(n).expect("built-in").expect("loads"))
        .collect();
    Chain::new(ps).expect("chains")
}

fn resolve(chain: &Chain, rule: &Rule) -> ResolvedRule {
    chain.apply(rule).expect("resolves")
}

fn all_fields(r: &ResolvedRule) -> Vec<String> {
    let mut out = Vec::new();
    for v in &r.variants {
        for c in &v.conditions {
            out.extend(c.field.clone());
        }
        for i in v.detection.items() {
            out.extend(i.field.clone());
        }
    }
    out
}

fn read_pipeline(path: &Path, sigmac: bool) -> Pipeline {
    let text = std::fs::read_to_string(path).expect("readable");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let r = if sigmac {
        pipeline::sigmac::read(name, &text)
    } else {
        pipeline::read(name, &text)
    };
    r.unwrap_or_else(|e| panic!("{}", e.render()))
}

// ------------------------------------------------------------------------------------------
// Built-ins on our own fixtures (no corpus needed)

#[test]
fn evtx_process_creation_has_sysmon_and_security_variants() {
    let r = resolve(
        &builtin_chain(&["evtx"]),
        &fixture_rule("proc_creation.yml"),
    );
    assert_eq!(r.variants.len(), 2);
    let sysmon = &r.variants[0];
    let security = &r.variants[1];
    assert_eq!(sysmon.label.as_deref(), Some("sysmon"));
    assert_eq!(security.label.as_deref(), Some("security"));
    let conds: Vec<String> = sysmon.conditions.iter().map(render::item).collect();
    assert_eq!(
        conds,
        [
            "Event.System.EventID = 1",
            "Event.System.Channel = 'Microsoft-Windows-Sysmon/Operational'"
        ]
    );
    // EventID conditions are numbers, as in the data.
    assert!(matches!(
        sysmon.conditions[0].values[0].value,
        sigma::value::Value::Num(_)
    ));
    let fields = all_fields(&r);
    assert!(fields.contains(&"Event.EventData.Image".to_owned()));
    assert!(fields.contains(&"Event.EventData.NewProcessName".to_owned()));
    assert!(fields.contains(&"Event.EventData.ParentProcessName".to_owned()));
    // The Security variant renames Image; the Sysmon one does not.
    assert!(
        security
            .detection
            .items()
            .all(|i| i.field.as_deref() != Some("Event.EventData.Image"))
    );
    // The field mapper names any Sigma field for each variant.
    assert_eq!(
        security.fields.map("Image"),
        ["Event.EventData.NewProcessName"]
    );
    assert_eq!(sysmon.fields.map("Image"), ["Event.EventData.Image"]);
    assert_eq!(sysmon.fields.map("Anything"), ["Event.EventData.Anything"]);
    assert_eq!(
        sysmon.fields.map("Provider_Name"),
        ["Event.System.Provider.#attributes.Name"]
    );
    // fieldref values are renamed too.
    let refs: Vec<String> = sysmon
        .detection
        .items()
        .flat_map(|i| i.values.iter())
        .filter_map(|v| match &v.value {
            sigma::value::Value::FieldRef(f, _) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(refs, ["Event.EventData.ParentCommandLine"]);
    // Every change names its pipeline item.
    assert!(
        security
            .changes
            .iter()
            .any(|c| c.item == "windows-logsources"
                && c.description
                    == "field Image -> NewProcessName (under process_creation-security)")
    );
}

#[test]
fn evtx_userdata_channels_map_to_several_candidate_paths() {
    let r = resolve(&builtin_chain(&["evtx"]), &fixture_rule("wmi_consumer.yml"));
    assert_eq!(r.variants.len(), 1);
    let v = &r.variants[0];
    let sel = v.detection.selection("selection").expect("selection");
    let any = sel
        .node
        .items()
        .filter(|i| {
            i.field
                .as_deref()
                .is_some_and(|f| f.ends_with(".Operation"))
        })
        .count();
    assert_eq!(any, 4, "one item per UserData element");
    assert!(
        matches!(&sel.node, SelectionNode::And(ns) if ns.iter().any(|n| matches!(n, SelectionNode::Or(_))))
    );
    // Keywords stay keywords.
    let kw = v.detection.selection("keywords").expect("keywords");
    assert!(kw.node.items().all(|i| i.field.is_none()));
}

#[test]
fn hunting_pipelines_skip_unmapped_log_sources_query_pipelines_do_not() {
    let rule = fixture_rule("linux.yml");
    for name in ["evtx", "windows-flat", "ecs-windows"] {
        let r = resolve(&builtin_chain(&[name]), &rule);
        assert!(r.variants.is_empty(), "{name}");
        let s = r.skipped.expect("skipped with a reason");
        assert_eq!(s.pipeline, name);
        assert_eq!(
            s.to_string(),
            format!(
                "not applicable: log source category 'process_creation', product 'linux' \
                 (linux/process_creation/*) not mapped by pipeline {name}"
            )
        );
    }
    let r = resolve(&builtin_chain(&["helk"]), &rule);
    assert!(r.skipped.is_none());
    assert_eq!(r.variants.len(), 1);
    assert_eq!(r.variants[0].indices, ["logs-*"]);
    assert!(r.variants[0].conditions.is_empty());
}

#[test]
fn helk_builtin_uses_event_id_conditional_names() {
    let r = resolve(
        &builtin_chain(&["helk"]),
        &fixture_rule("sysmon_config.yml"),
    );
    let v = &r.variants[0];
    assert_eq!(v.indices, ["logs-endpoint-winevent-sysmon-*"]);
    let fields = all_fields(&r);
    assert_eq!(fields, ["event_id", "sysmon_configuration"]);
}

#[test]
fn ecs_windows_names_and_index() {
    let r = resolve(
        &builtin_chain(&["ecs-windows"]),
        &fixture_rule("proc_creation.yml"),
    );
    assert_eq!(r.variants.len(), 2);
    for v in &r.variants {
        assert_eq!(v.indices, ["winlogbeat-*"]);
        let fields: Vec<&str> = v
            .detection
            .items()
            .filter_map(|i| i.field.as_deref())
            .collect();
        assert!(fields.contains(&"process.executable"), "{fields:?}");
        assert!(fields.contains(&"process.parent.executable"), "{fields:?}");
        assert!(fields.contains(&"winlog.event_data.User"), "{fields:?}");
        assert_eq!(v.conditions[0].field.as_deref(), Some("event.code"));
        assert_eq!(v.conditions[1].field.as_deref(), Some("winlog.channel"));
    }
}

#[test]
fn builtin_snapshots_on_fixtures() {
    for rule in [
        "proc_creation.yml",
        "sysmon_config.yml",
        "wmi_consumer.yml",
        "placeholder.yml",
        "linux.yml",
    ] {
        for p in builtin::NAMES {
            let chain = builtin_chain(&[p]);
            let r = resolve(&chain, &fixture_rule(rule));
            let name = format!("fixture__{}__{}", rule.trim_end_matches(".yml"), p);
            insta::assert_snapshot!(name, render::resolved(&r, &chain.name()));
        }
    }
}

// ------------------------------------------------------------------------------------------
// pySigma pipelines

fn pysigma_fixture() -> Pipeline {
    read_pipeline(&Path::new(FIXTURES).join("pysigma_pipeline.yml"), false)
}

#[test]
fn pysigma_pipeline_reads_and_applies() {
    let p = pysigma_fixture();
    assert_eq!(p.format, pipeline::Format::PySigma);
    assert_eq!(p.priority, Some(20));
    let chain = Chain::new(vec![p]).expect("chain");
    let r = resolve(&chain, &fixture_rule("proc_creation.yml"));
    insta::assert_snapshot!(
        "pysigma__proc_creation",
        render::resolved(&r, &chain.name())
    );
    let v = &r.variants[0];
    assert_eq!(
        v.indices,
        ["sysmon-*"],
        "set_state index after processing_item_applied"
    );
    let fields = all_fields(&r);
    assert!(fields.contains(&"event.code".to_owned()));
    assert!(
        fields.contains(&"parent.executable".to_owned()),
        "{fields:?}"
    );
    assert!(fields.contains(&"process.args".to_owned()), "one-to-many");
    assert!(
        fields.contains(&"winlog.event_data.User".to_owned()),
        "prefix with re condition"
    );
    assert!(
        !fields.iter().any(|f| f.contains("IntegrityLevel")),
        "dropped"
    );

    // Placeholders expand from vars; a log source change is recorded.
    let r = resolve(&chain, &fixture_rule("placeholder.yml"));
    insta::assert_snapshot!("pysigma__placeholder", render::resolved(&r, &chain.name()));
    let text = render::resolved(&r, &chain.name());
    assert!(text.contains("any('administrator', 'adm_*')"), "{text}");
    assert!(text.contains("'WS*'"), "{text}");
    assert!(
        text.contains("windows/*/security -> windows/*/security-audit"),
        "{text}"
    );

    // detection_item_failure refuses the rule, pointing at the item.
    let e = chain
        .apply(fixture_rule("wmi_consumer.yml"))
        .expect_err("refused");
    assert_eq!(e.item, "no_keywords");
    assert_eq!(
        e.message,
        "keyword searches are not supported by this backend"
    );
    assert!(e.span.is_some());
}

#[test]
fn unresolved_placeholders_stay() {
    let r = resolve(&builtin_chain(&["evtx"]), &fixture_rule("placeholder.yml"));
    let has = r.variants[0].detection.items().any(|i| {
        i.values
            .iter()
            .any(|v| matches!(&v.value, sigma::value::Value::Str(s) if s.has_placeholders()))
    });
    assert!(
        has,
        "placeholders nobody expands are left for the engine/backends to refuse"
    );
}

#[test]
fn rule_failure_refuses() {
    let text = "transformations:\n  - id: nope\n    type: rule_failure\n    message: no Linux here\n    rule_conditions:\n      - type: logsource\n        product: linux\n";
    let p = pipeline::read("fail.yml", text).expect("reads");
    let chain = Chain::new(vec![p]).expect("chain");
    let e = chain.apply(fixture_rule("linux.yml")).expect_err("refused");
    assert_eq!(e.to_string(), "pipeline fail.yml, item nope: no Linux here");
    assert!(chain.apply(fixture_rule("proc_creation.yml")).is_ok());
}

#[test]
fn resolved_rules_share_the_rule_they_are_given() {
    let rule = Arc::new(fixture_rule("proc_creation.yml"));
    let evtx = builtin_chain(&["evtx"]).apply(&rule).expect("resolves");
    let flat = builtin_chain(&["windows-flat"])
        .apply(&rule)
        .expect("resolves");
    let none = pipeline::resolve_identity(&rule);
    for r in [&evtx, &flat, &none] {
        assert!(Arc::ptr_eq(&r.rule, &rule), "{}: a copy", r.rule.title());
    }
    // Two pipelines and the identity, one rule: the set's, and three resolved ones.
    assert_eq!(Arc::strong_count(&rule), 4);
    // A rule passed by value moves in; a borrowed one is copied, the caller keeps its own.
    let owned = fixture_rule("proc_creation.yml");
    let borrowed = resolve(&builtin_chain(&["evtx"]), &owned);
    assert_eq!(Arc::strong_count(&borrowed.rule), 1);
    assert_eq!(borrowed.rule.title(), owned.title());
    let moved = pipeline::resolve_identity(owned);
    assert_eq!(Arc::strong_count(&moved.rule), 1);
}

// ------------------------------------------------------------------------------------------
// Bad pipeline files: errors with file:line:column, nothing ignored

fn error_of(path: &str, text: &str) -> String {
    let e = pipeline::read(path, text).expect_err("must be refused");
    e.to_string()
}

#[test]
fn unknown_transformation_is_an_error_with_position() {
    let text =
        "name: x\ntransformations:\n  - id: a\n    type: field_name_mappin\n    mapping: {a: b}\n";
    assert_eq!(
        error_of("p.yml", text),
        "p.yml:4:11: unknown transformation 'field_name_mappin'"
    );
    let e = pipeline::read("p.yml", text).expect_err("bad");
    assert!(e.render().contains("did you mean 'field_name_mapping'?"));

    let text = "transformations:\n  - type: hashes_fields\n    valid_hash_algos: [MD5]\n";
    assert_eq!(
        error_of("p.yml", text),
        "p.yml:2:11: not supported yet: hashes_fields"
    );
    let text = "transformations:\n  - type: field_name_mapping\n    mapping: {a: b}\n    rule_conditions:\n      - type: contains_field\n        field: a\n";
    assert_eq!(
        error_of("p.yml", text),
        "p.yml:5:15: not supported yet: rule condition 'contains_field'"
    );
    let text = "items:\n  - type: field-mapping\n    map: {a: b}\n";
    assert_eq!(
        error_of("n.yml", text),
        "n.yml:2:11: unknown item type 'field-mapping'"
    );
    let text = "transformations: []\npostprocessing:\n  - type: template\n    template: x\n";
    assert!(error_of("p.yml", text).starts_with("p.yml:2:1: not supported yet: postprocessing"));
}

#[test]
fn a_mapping_that_is_not_a_map_is_an_error() {
    assert_eq!(
        error_of(
            "c.yml",
            "title: t\nfieldmappings:\n  - Image\n  - CommandLine\n"
        ),
        "c.yml:3:3: fieldmappings must be a map, not a list"
    );
    assert_eq!(
        error_of(
            "p.yml",
            "transformations:\n  - type: field_name_mapping\n    mapping: [Image]\n"
        ),
        "p.yml:3:14: mapping must be a map, not a list"
    );
    assert_eq!(
        error_of(
            "c.yml",
            "logsources:\n  x:\n    product: windows\n    rewrite: sysmon\n"
        ),
        "c.yml:4:14: rewrite must be a map, not a string"
    );
    assert_eq!(
        error_of("c.yml", "fieldmappings:\n  Image: true\n"),
        "c.yml:2:10: the mapping of 'Image' must be a field name, a list or a map, not a boolean"
    );
    assert_eq!(
        error_of("c.yml", "fieldmappings:\n  Image:\n    EventID16: a\n"),
        "c.yml:3:5: expected 'field=value' or 'default', found 'EventID16'"
    );
}

#[test]
fn a_condition_value_must_be_a_scalar() {
    let text = "logsources:\n  x:\n    product: windows\n    conditions:\n      EventID:\n        - {a: 1}\n";
    assert_eq!(
        error_of("c.yml", text),
        "c.yml:6:11: a condition value must be a string, number, boolean or null, not a map"
    );
    let text =
        "logsources:\n  x:\n    product: windows\n    conditions:\n      EventID: [4688, [1]]\n";
    assert_eq!(
        error_of("c.yml", text),
        "c.yml:5:23: a condition value must be a string, number, boolean or null, not a list"
    );
}

#[test]
fn a_condition_on_an_unknown_log_source_key_is_an_error() {
    let text = "transformations:\n  - type: field_name_prefix\n    prefix: x.\n    rule_conditions:\n      - type: logsource\n        categroy: process_creation\n";
    assert_eq!(
        error_of("p.yml", text),
        "p.yml:6:9: unknown key 'categroy' in a 'logsource' condition"
    );
    let e = pipeline::read("p.yml", text).expect_err("bad");
    let rendered = e.render();
    assert!(rendered.contains("--> p.yml:6:9"), "{rendered}");
    assert!(rendered.contains("did you mean 'category'?"), "{rendered}");

    let text = "logsources:\n  x:\n    categroy: process_creation\n    index: a\n";
    let msg = error_of("c.yml", text);
    assert!(
        msg.contains("c.yml:3:5: unknown key 'categroy' in log source 'x'"),
        "{msg}"
    );

    let text =
        "items:\n  - type: index\n    index: [a]\n    when:\n      logsource: {categroy: x}\n";
    let msg = error_of("n.yml", text);
    assert!(
        msg.starts_with("n.yml:5:19: unknown key 'categroy'"),
        "{msg}"
    );

    let text = "logsources:\n  x:\n    product: windows\n    rewrite: {servce: sysmon}\n";
    let msg = error_of("c.yml", text);
    assert!(msg.starts_with("c.yml:4:15: unknown key 'servce'"), "{msg}");
}

#[test]
fn other_bad_files() {
    assert!(
        error_of("c.yml", "fieldmappings: {a: b}\nbogus: 1\n")
            .starts_with("c.yml:2:1: unknown key 'bogus'")
    );
    assert!(error_of("c.yml", "logsources:\n  x:\n    index: a\n").contains("would never match"));
    assert!(
        error_of(
            "c.yml",
            "logsources:\n  x:\n    product: w\n    conditions:\n      EventID|contians: 1\n"
        )
        .starts_with("c.yml:5:7: unknown modifier 'contians'")
    );
    assert!(error_of("x.yml", "foo: bar\n").starts_with("x.yml:1:1: not a pipeline"));
    assert!(error_of("x.yml", "items: [\n").contains("x.yml:"));
    assert!(
        error_of(
            "p.yml",
            "transformations:\n  - type: set_state\n    key: data_source\n    val: x\n"
        )
        .starts_with("p.yml:3:10: not supported yet: set_state key 'data_source'")
    );
}

#[test]
fn sigmac_order_is_checked_when_chaining() {
    let a = pipeline::sigmac::read("a.yml", "order: 20\nfieldmappings: {a: b}\n").expect("a");
    let b =
        pipeline::sigmac::read("b.yml", "title: b\norder: 10\nfieldmappings: {b: c}\n").expect("b");
    let e = Chain::new(vec![a.clone(), b.clone()]).expect_err("wrong order");
    assert!(
        e.to_string()
            .starts_with("b.yml:2:1: sigmac configurations must be chained in increasing 'order'")
    );
    let chain = Chain::new(vec![b, a]).expect("right order");
    assert_eq!(chain.pipelines.len(), 2);
}

#[test]
fn sigmac_chain_maps_conditions_through_every_config() {
    let generic = pipeline::sigmac::read(
        "generic.yml",
        "order: 10\nlogsources:\n  pc:\n    category: process_creation\n    product: windows\n    conditions:\n      EventID: 1\n    rewrite:\n      product: windows\n      service: sysmon\n",
    )
    .expect("generic");
    let site = pipeline::sigmac::read(
        "site.yml",
        "order: 20\nlogsources:\n  sysmon:\n    product: windows\n    service: sysmon\n    index: sysmon-*\n    conditions:\n      Channel: Microsoft-Windows-Sysmon/Operational\ndefaultindex: logs-*\nfieldmappings:\n  EventID: event_id\n  Channel: channel\n  Image: [process_path, image_path]\n  ParentImage: null\n",
    )
    .expect("site");
    let chain = Chain::new(vec![generic, site]).expect("chain");
    let r = resolve(&chain, &fixture_rule("proc_creation.yml"));
    let v = &r.variants[0];
    assert_eq!(v.indices, ["sysmon-*"]);
    let conds: Vec<String> = v.conditions.iter().map(render::item).collect();
    assert_eq!(
        conds,
        [
            "event_id = 1",
            "channel = 'Microsoft-Windows-Sysmon/Operational'"
        ]
    );
    let fields = all_fields(&r);
    assert!(
        fields.contains(&"process_path".to_owned()) && fields.contains(&"image_path".to_owned())
    );
    assert!(
        fields.contains(&"ParentImage".to_owned()),
        "null mapping keeps the name"
    );
}

#[test]
fn one_to_many_absence_tests_hold_for_every_field() {
    let p = pipeline::read(
        "m.yml",
        "items:\n  - type: fields\n    map:\n      User: [a.user, b.user]\n      IntegrityLevel: [a.il, b.il]\n",
    )
    .expect("reads");
    let chain = Chain::new(vec![p]).expect("chain");
    let r = resolve(&chain, &fixture_rule("proc_creation.yml"));
    let f = r.variants[0]
        .detection
        .selection("filter_user")
        .expect("filter");
    // `User|neq` and `IntegrityLevel: null` must hold for both names: AND, not OR.
    match &f.node {
        SelectionNode::And(ns) => {
            assert!(
                ns.iter().all(|n| matches!(n, SelectionNode::And(_))),
                "{ns:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn native_format_round_trips() {
    for n in builtin::NAMES {
        let p = builtin::get(n).expect("listed").expect("loads");
        let once = native::write(&p);
        let again = native::write(
            &pipeline::read("x.yml", &once).unwrap_or_else(|e| panic!("{n}: {}", e.render())),
        );
        assert_eq!(body(&once), body(&again), "{n}");
    }
    let p = pysigma_fixture();
    let once = native::write(&p);
    let back = pipeline::read("x.yml", &once).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(back.items.len(), p.items.len());
    assert_eq!(body(&native::write(&back)), body(&once));
}

/// The normalised text without its comment lines and name.
fn body(s: &str) -> Vec<&str> {
    s.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name:"))
        .collect()
}

#[test]
fn hidden_conditions_for_negated_groups() {
    let p = pipeline::read(
        "n.yml",
        "items:\n  - type: add-condition\n    negated: true\n    conditions:\n      Channel: Security\n      EventID: 4688\n",
    )
    .expect("reads");
    let chain = Chain::new(vec![p]).expect("chain");
    let r = resolve(&chain, &fixture_rule("proc_creation.yml"));
    let d = &r.variants[0].detection;
    assert!(d.selection("_pipeline_cond1").is_some());
    assert!(
        d.conditions[0]
            .text
            .starts_with("not _pipeline_cond1 and (")
    );
    assert!(r.variants[0].conditions.is_empty());
}

// ------------------------------------------------------------------------------------------
// Corpus: sigmac configurations, SigmaHQ rules, Security-Datasets

const SNAPSHOT_RULES: &[&str] = &[
    "rules/windows/process_creation/proc_creation_win_susp_whoami_as_param.yml",
    "rules/windows/registry/registry_set/registry_set_add_port_monitor.yml",
    "rules/windows/network_connection/net_connection_win_certutil_initiated_connection.yml",
    "rules/windows/powershell/powershell_script/posh_ps_access_to_browser_login_data.yml",
    "rules/windows/builtin/security/win_security_metasploit_authentication.yml",
    "rules/windows/builtin/system/service_control_manager/win_system_service_install_paexec.yml",
    "rules/windows/file/file_event/file_event_win_anydesk_artefact.yml",
    "rules/windows/dns_query/dns_query_win_anonymfiles_com.yml",
    "rules/windows/image_load/image_load_clfs_load.yml",
    "rules/windows/builtin/win_alert_mimikatz_keywords.yml",
    "rules/windows/sysmon/sysmon_config_modification.yml",
    "rules/windows/builtin/wmi/win_wmi_persistence.yml",
    "rules/windows/process_access/proc_access_win_cmstp_execution_by_access.yml",
    "rules/linux/process_creation/proc_creation_lnx_at_command.yml",
];

fn corpus_rule(root: &Path, rel: &str) -> Rule {
    let text = std::fs::read_to_string(root.join("sigma").join(rel)).expect("corpus rule");
    let mut loaded = sigma::load_str(&text, rel);
    assert!(!loaded.rules.is_empty(), "{rel}: {:?}", loaded.diagnostics);
    loaded.rules.remove(0)
}

#[test]
fn every_sigmac_config_loads() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let dir = root.join("sigmac-config");
    let mut files = Vec::new();
    for sub in [dir.clone(), dir.join("generic")] {
        for e in std::fs::read_dir(&sub).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 16, "{files:?}");
    for f in &files {
        let p = read_pipeline(f, true);
        assert!(!p.items.is_empty(), "{f:?}");
        // And the normalised form reads back.
        let back = pipeline::read("n.yml", &native::write(&p))
            .unwrap_or_else(|e| panic!("{f:?}: {}", e.render()));
        assert_eq!(back.items.len(), p.items.len());
    }
}

#[test]
fn helk_and_winlogbeat_configs_resolve_corpus_rules() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let cfg = |n: &str| read_pipeline(&root.join("sigmac-config").join(n), true);

    // A sysmon service rule: HELK's index and the EventID-conditional name.
    // A category rule without a generic rewrite: helk.yml alone does not route it (as sigmac).
    let rule = corpus_rule(
        &root,
        "rules/windows/sysmon/sysmon_config_modification_status.yml",
    );
    let helk = Chain::new(vec![cfg("helk.yml")]).expect("chain");
    let r = resolve(&helk, &rule);
    assert_eq!(r.variants[0].indices, ["logs-*"]);
    // `State` depends on EventID=4 or EventID=16, which this rule does not test: unchanged.
    assert_eq!(all_fields(&r), ["State", "State"]);

    let rule = corpus_rule(&root, "rules/windows/sysmon/sysmon_config_modification.yml");
    let r = resolve(&helk, &rule);
    assert_eq!(r.variants[0].indices, ["logs-endpoint-winevent-sysmon-*"]);
    assert_eq!(all_fields(&r), ["event_id"]);
    // The EventID=16 case of `Configuration` holds for this rule.
    assert_eq!(
        r.variants[0].fields.map("Configuration"),
        ["sysmon_configuration"]
    );
    assert_eq!(
        r.variants[0].fields.map("State"),
        ["sysmon_configuration_state"]
    );

    // process_creation with the generic Sysmon rewrite first: HELK names and Sysmon index.
    let chain = Chain::new(vec![cfg("generic/sysmon.yml"), cfg("helk.yml")]).expect("chain");
    let rule = corpus_rule(&root, SNAPSHOT_RULES[0]);
    let r = resolve(&chain, &rule);
    let v = &r.variants[0];
    assert_eq!(v.indices, ["logs-endpoint-winevent-sysmon-*"]);
    assert_eq!(render::item(&v.conditions[0]), "event_id = 1");
    assert!(all_fields(&r).contains(&"process_command_line".to_owned()));

    // Winlogbeat names.
    let chain = Chain::new(vec![cfg("generic/sysmon.yml"), cfg("winlogbeat.yml")]).expect("chain");
    let r = resolve(&chain, &rule);
    let v = &r.variants[0];
    assert_eq!(v.indices, ["winlogbeat-*"]);
    let conds: Vec<String> = v.conditions.iter().map(render::item).collect();
    assert_eq!(
        conds,
        [
            "winlog.event_id = 1",
            "winlog.channel = 'Microsoft-Windows-Sysmon/Operational'"
        ]
    );
    assert!(all_fields(&r).contains(&"winlog.event_data.CommandLine".to_owned()));

    // Log-source-conditional names (winlogbeat-modules-enabled.yml): the category counts as
    // written, even after generic/sysmon.yml rewrote the log source to windows/sysmon.
    let chain = Chain::new(vec![
        cfg("generic/sysmon.yml"),
        cfg("winlogbeat-modules-enabled.yml"),
    ])
    .expect("chain");
    let r = resolve(&chain, &rule);
    assert_eq!(
        r.variants[0].fields.map("OriginalFileName"),
        ["process.pe.original_file_name"]
    );
    assert_eq!(render::item(&r.variants[0].conditions[0]), "event.code = 1");
    let img = corpus_rule(&root, SNAPSHOT_RULES[8]);
    let r = resolve(&chain, &img);
    assert_eq!(
        r.variants[0].fields.map("OriginalFileName"),
        ["file.pe.original_file_name"]
    );
    assert_eq!(r.variants[0].fields.map("sha256"), ["file.hash.sha256"]);
    // `ErrorCode` has only service cases and a default; `Error\ Code` is read as a space.
    assert_eq!(
        r.variants[0].fields.map("ErrorCode"),
        ["winlog.event_data.ErrorCode"]
    );

    // THOR-style alternatives: process_creation is Sysmon 1 or Security 4688.
    let r = resolve(&Chain::new(vec![cfg("thor.yml")]).expect("chain"), &rule);
    assert_eq!(r.variants.len(), 2);
}

#[test]
fn snapshots_of_sigmahq_rules() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let cfg = |n: &str| read_pipeline(&root.join("sigmac-config").join(n), true);
    let mut chains: Vec<(&str, Chain)> = builtin::NAMES
        .iter()
        .map(|n| (*n, builtin_chain(&[n])))
        .collect();
    let mut helk = Chain::new(vec![cfg("generic/sysmon.yml"), cfg("helk.yml")]).expect("chain");
    helk.pipelines[0].name = "generic/sysmon.yml".into();
    helk.pipelines[1].name = "helk.yml".into();
    chains.push(("sigmac-helk", helk));
    let mut wlb =
        Chain::new(vec![cfg("generic/sysmon.yml"), cfg("winlogbeat.yml")]).expect("chain");
    wlb.pipelines[0].name = "generic/sysmon.yml".into();
    wlb.pipelines[1].name = "winlogbeat.yml".into();
    chains.push(("sigmac-winlogbeat", wlb));
    for rel in SNAPSHOT_RULES {
        let rule = corpus_rule(&root, rel);
        let stem = Path::new(rel)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?");
        for (name, chain) in &chains {
            let r = resolve(chain, &rule);
            insta::assert_snapshot!(
                format!("sigmahq__{stem}__{name}"),
                render::resolved(&r, &chain.name())
            );
        }
    }
}

#[test]
fn every_corpus_rule_resolves_under_every_builtin() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let chains: Vec<Chain> = builtin::NAMES.iter().map(|n| builtin_chain(&[n])).collect();
    let mut rules = 0;
    let mut stack = vec![root.join("sigma/rules")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                let text = std::fs::read_to_string(&p).expect("readable");
                for rule in sigma::load_str(&text, &p.to_string_lossy()).rules {
                    rules += 1;
                    for c in &chains {
                        let r = c.apply(&rule).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                        assert!(
                            r.skipped.is_some() == r.variants.is_empty()
                                || matches!(rule.body, sigma::RuleBody::Correlation(_)),
                            "{p:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(rules > 3000, "{rules}");
}

/// Under `windows-flat`, the Sysmon variant of every process_creation rule names fields that
/// exist in Sysmon EventID 1 events of the Security-Datasets — or they are reported here.
#[test]
fn windows_flat_fields_exist_in_security_datasets() {
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::BufRead;
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    // Field names of Sysmon EventID 1 events.
    let mut present: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![root.join("security-datasets")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if !p.to_string_lossy().ends_with(".gz") {
                continue;
            }
            let f = std::fs::File::open(&p).expect("open");
            let mut r = std::io::BufReader::with_capacity(1 << 20, flate2::read::GzDecoder::new(f));
            // memchr, not str::contains: generic std code would run unoptimised in a test build.
            let sysmon = memchr::memmem::Finder::new(b"Sysmon/Operational");
            let eid = memchr::memmem::Finder::new(b"\"EventID\":1");
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if sysmon.find(&line).is_none() || eid.find(&line).is_none() {
                    continue;
                }
                let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(&line) else {
                    continue;
                };
                if m.get("EventID").and_then(|v| v.as_i64()) == Some(1) {
                    present.extend(m.keys().cloned());
                }
            }
        }
    }
    assert!(present.contains("Image") && present.contains("CommandLine"));
    let chain = builtin_chain(&["windows-flat"]);
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules = 0;
    let dir = root.join("sigma/rules/windows/process_creation");
    for e in std::fs::read_dir(&dir).expect("dir") {
        let p = e.expect("entry").path();
        let text = std::fs::read_to_string(&p).expect("readable");
        for rule in sigma::load_str(&text, &p.to_string_lossy()).rules {
            let r = resolve(&chain, &rule);
            let Some(v) = r
                .variants
                .iter()
                .find(|v| v.label.as_deref() == Some("sysmon"))
            else {
                panic!("{p:?}: no sysmon variant");
            };
            rules += 1;
            for f in v
                .conditions
                .iter()
                .chain(v.detection.items())
                .filter_map(|i| i.field.as_ref())
            {
                if !present.contains(f) {
                    *missing.entry(f.clone()).or_default() += 1;
                }
            }
        }
    }
    assert!(rules > 1000, "{rules}");
    // The report: Sigma fields of Sysmon 1 that these NXLog exports do not carry.
    eprintln!("process_creation rules: {rules}; fields not in Sysmon EventID 1 of the data:");
    for (f, n) in &missing {
        eprintln!("  {f}: {n} rule(s)");
    }
    // Today every one exists; a new rule or a mapping change that names a field these exports
    // lack shows up in the report above and fails here.
    assert!(missing.is_empty(), "fields not in the data: {missing:?}");
}

#[test]
fn case_prefix_map_and_logsource_conditional_mappings() {
    let p = pipeline::read(
        "n.yml",
        "items:\n  - type: fields\n    map:\n      FileVersion:\n        cases:\n          - {logsource: {category: image_load}, to: file.pe.file_version}\n          - {value: {EventID: 1}, to: process.pe.file_version}\n        default: pe.file_version\n  - type: field-prefix-map\n    map: {process.: proc., pe.: [a.pe., b.pe.]}\n  - type: field-case\n    case: upper\n    fields:\n      include: [CommandLine, proc.pe.file_version]\n",
    )
    .expect("reads");
    let chain = Chain::new(vec![p]).expect("chain");
    let rule = fixture_rule("proc_creation.yml");
    let r = resolve(&chain, &rule);
    let m = &r.variants[0].fields;
    // No case holds for this rule: the default, then the prefix map gives two names.
    assert_eq!(
        m.map("FileVersion"),
        ["a.pe.file_version", "b.pe.file_version"]
    );
    assert_eq!(m.map("CommandLine"), ["COMMANDLINE"]);
    assert_eq!(m.map("Image"), ["Image"]);

    let with_event = pipeline::read(
        "e.yml",
        "items:\n  - type: add-condition\n    conditions: {EventID: 1}\n",
    )
    .expect("reads");
    let mut ps = vec![with_event];
    ps.extend(chain.pipelines.clone());
    let r = resolve(&Chain::new(ps).expect("chain"), &rule);
    // The added condition `EventID: 1` makes the value case hold, then case and prefix apply.
    assert_eq!(
        r.variants[0].fields.map("FileVersion"),
        ["PROC.PE.FILE_VERSION"]
    );
}

/// Under `evtx`, every regression event of SigmaHQ (the evtx crate's JSON) is routed to a variant
/// of its rule: the variant's conditions (Channel, EventID, ...) hold on the event at the paths
/// the pipeline names.
#[test]
fn evtx_routes_every_regression_event_to_its_rule() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let chain = builtin_chain(&["evtx"]);
    let base = root.join("regression_data");
    let mut stack = vec![base.join("rules")];
    let (mut events, mut routed) = (0, 0);
    let mut failures = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            // regression_data/rules/<path>/<rule stem>/<id>.json -> sigma/rules/<path>/<rule stem>.yml
            let dir = p.parent().expect("parent");
            let rel = dir.strip_prefix(&base).expect("under base");
            let rule_path = root.join("sigma").join(rel).with_extension("yml");
            let Ok(text) = std::fs::read_to_string(&rule_path) else {
                continue;
            };
            let Some(rule) = sigma::load_str(&text, &rule_path.to_string_lossy())
                .rules
                .into_iter()
                .next()
            else {
                continue;
            };
            let r = resolve(&chain, &rule);
            let json = std::fs::read_to_string(&p).expect("json");
            for ev in serde_json::Deserializer::from_str(&json).into_iter::<serde_json::Value>() {
                let Ok(ev) = ev else { break };
                events += 1;
                if r.variants
                    .iter()
                    .any(|v| v.conditions.iter().all(|c| holds(c, &ev)))
                {
                    routed += 1;
                } else {
                    failures.push(format!(
                        "{}: {}",
                        rule_path.display(),
                        r.skipped
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(events > 100, "{events}");
    assert!(
        failures.is_empty(),
        "{routed}/{events} routed; not routed:\n{}",
        failures.join("\n")
    );
}

/// A small evaluator for pipeline conditions (exact values, case-insensitive strings, numbers
/// equal numerically or as text; `#text` of an object), enough for Channel/EventID/EventType.
fn holds(c: &sigma::rule::DetectionItem, ev: &serde_json::Value) -> bool {
    use sigma::value::Value;
    let mut cur = ev;
    for seg in c.field.as_deref().unwrap_or_default().split('.') {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => return false,
        }
    }
    if let Some(t) = cur.get("#text") {
        cur = t;
    }
    let text = match cur {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let r = c.values.iter().any(|v| match &v.value {
        Value::Num(n) => text.parse::<f64>().is_ok_and(|t| t == n.as_f64()),
        Value::Str(s) => s.as_plain().is_some_and(|p| p.eq_ignore_ascii_case(&text)),
        _ => false,
    });
    r != c.flags.negated
}

/// The built-in `helk` is sigmac's helk.yml in our model: the same normalised content.
#[test]
fn builtin_helk_is_helk_yml() {
    let Some(root) = testkit::data_root("sigma pipeline corpus") else {
        return;
    };
    let from_file = read_pipeline(&root.join("sigmac-config/helk.yml"), true);
    let builtin = builtin::get("helk").expect("listed").expect("loads");
    assert_eq!(
        body(&native::write(&builtin)),
        body(&native::write(&from_file))
    );
}
