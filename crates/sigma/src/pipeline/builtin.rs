//! Built-in pipelines, written by us in sigwatch's pipeline format from the public field
//! documentation of each data shape, and selectable by name (`-p evtx`).
//!
//! - `evtx`: EVTX records as the `evtx` crate (0.15) renders them as JSON: `Event.System.*`
//!   (`EventID`, `Channel`, `Computer`, `Provider.#attributes.Name`), `Event.EventData.<Name>`,
//!   and `Event.UserData.<Element>.<Name>` for the channels that write UserData.
//! - `windows-flat`: flat Windows JSON as shipped by NXLog (Security-Datasets): `Channel`,
//!   `EventID`, `Image`, ...
//! - `ecs-windows`: Winlogbeat 7/8 with its Sysmon, Security and PowerShell modules (ECS:
//!   `winlog.channel`, `event.code`, `process.executable`, `winlog.event_data.*`), index
//!   `winlogbeat-*`.
//! - `helk`: HELK's indices and OSSEM field names (the content of sigmac's `helk.yml`).
//!
//! The first three are hunting pipelines (`unmapped: skip`): a rule whose log source they do not
//! map gets no variant. They share the Windows log-source routing of `windows-logsources.yml`
//! (Sysmon event ids per category from SigmaHQ's `tests/thor.yml`, Security 4688 for
//! `process_creation`, channels per service), written with Sigma's names; each adds its own
//! field names after it.

use super::error::PipelineError;
use super::model::Pipeline;

/// The names `-p` accepts.
pub const NAMES: &[&str] = &["evtx", "windows-flat", "ecs-windows", "helk"];

const WINDOWS: &str = include_str!("builtin/windows-logsources.yml");
const EVTX: &str = include_str!("builtin/evtx.yml");
const WINDOWS_FLAT: &str = include_str!("builtin/windows-flat.yml");
const ECS_WINDOWS: &str = include_str!("builtin/ecs-windows.yml");
const HELK: &str = include_str!("builtin/helk.yml");

/// One line about each built-in, for `pipeline list`.
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "evtx" => {
            "EVTX records as the evtx parser renders them (Event.System.*, Event.EventData.*)"
        }
        "windows-flat" => {
            "flat Windows JSON as shipped by NXLog / Security-Datasets (Channel, EventID, Image, ...)"
        }
        "ecs-windows" => {
            "Winlogbeat 7/8 ECS (winlog.channel, event.code, process.executable), index winlogbeat-*"
        }
        "helk" => {
            "HELK indices (logs-endpoint-winevent-*) and OSSEM field names, as sigmac's helk.yml"
        }
        _ => return None,
    })
}

/// A built-in pipeline by name; `None` for an unknown name.
pub fn get(name: &str) -> Option<Result<Pipeline, PipelineError>> {
    let (text, routed) = match name {
        "evtx" => (EVTX, true),
        "windows-flat" => (WINDOWS_FLAT, true),
        "ecs-windows" => (ECS_WINDOWS, true),
        "helk" => (HELK, false),
        _ => return None,
    };
    Some(build(name, text, routed))
}

fn build(name: &str, text: &str, routed: bool) -> Result<Pipeline, PipelineError> {
    let mut p = super::native::read(&format!("builtin:{name}"), text)?;
    p.name = name.to_owned();
    if routed {
        let routing = super::native::read("builtin:windows-logsources", WINDOWS)?;
        let mut items = routing.items;
        items.append(&mut p.items);
        p.items = items;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_loads() {
        for n in NAMES {
            let p = get(n)
                .expect("listed")
                .unwrap_or_else(|e| panic!("{n}: {}", e.render()));
            assert!(!p.items.is_empty(), "{n}");
            assert!(describe(n).is_some());
        }
        assert!(get("nope").is_none());
    }
}
