//! A set of literals searched for all at once (the prefilter's per-field search).
//!
//! Texts are mostly free of a field's literals, so the search is built to reject a text
//! quickly. Per set, the cheapest of these by an estimate ([`Cost`], [`Model`]):
//! - [`Plain::One`]: one literal, found with memchr's `memmem`.
//! - [`Plain::Packed`]: up to 64 literals, found with Teddy (SIMD, on each literal's first
//!   bytes).
//! - [`Plain::Full`]: one Aho-Corasick automaton (a DFA, or an NFA for very large sets).
//! - a [`Gate`]: a few short substrings ("grams"), rare in log text by a static model, such
//!   that (nearly) every literal contains one, searched with `memmem` or Teddy; each gram
//!   occurrence is checked against the literals filed under that gram, at the offset the gram
//!   has in each. The few literals left without a rare gram get a search of their own. A
//!   text without any gram, the common case, costs one SIMD scan instead of an automaton's.
//! - a [`WindowedSet`]: each literal under its rarest 4- or 8-byte window, looked up at every
//!   position of the text in a small Bloom filter and table. Taken for sets of hundreds of
//!   literals and, unless a gate is much cheaper, for any set that would need a full
//!   automaton: its tables stay in the caches, which an automaton's do not in a hunt.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::memmem;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use super::windowed::{SHORT, Windowed};

/// Sets with at least this many literals of [`SHORT`] bytes or more are searched by their
/// windows ([`Windowed`]): their automaton would take tens of milliseconds to build and, too
/// large for the caches, scan at ~20 ns a byte; a gate's grams take as long to choose.
const WINDOWED_MIN: usize = 512;

/// A set that needs a full automaton (too many literals for Teddy) and has at least this many
/// literals of [`SHORT`] bytes or more is searched by its windows too, unless a gate is much
/// cheaper. In a hunt an automaton's tables (a DFA of 227 registry paths takes 1.4 MB) are
/// cold at each search, one value among thousands of others: measured over 25 passes of
/// evtx-attack-samples they scanned at 9-35 ns a byte (2-6 ns in a loop over the same texts),
/// where the windows' 40-50 KB scanned at 7-12 ns, the per-search costs included.
const AUTOMATON_WINDOWED_MIN: usize = 64;

/// Literal sets up to this size get a DFA (fastest scan, but its memory grows with the
/// states times the byte classes); larger ones a contiguous NFA (a few bytes per state).
pub(crate) const DFA_MAX_PATTERNS: usize = 300;

/// A set of literals searched for all at once: which of them occur in a text.
#[derive(Debug)]
pub(crate) struct LiteralSet {
    imp: Imp,
}

#[derive(Debug)]
enum Imp {
    Plain(Plain),
    Gate(Box<Gate>),
    Windowed(Box<WindowedSet>),
}

/// A large set: its literals of [`SHORT`] bytes or more by their windows, the shorter ones
/// (few) in a set of their own, whose ids map back to the set's.
#[derive(Debug)]
struct WindowedSet {
    windowed: Windowed,
    rest: Option<(LiteralSet, Vec<u32>)>,
}

impl WindowedSet {
    fn build(list: &[String], keys: &[Vec<u8>], dfa: bool, model: &Model) -> Option<WindowedSet> {
        let windowed = Windowed::build(keys, |key, w| model.rarest_window(key, w))?;
        let rest_ids: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| keys[i as usize].len() < SHORT)
            .collect();
        let rest = if rest_ids.is_empty() {
            None
        } else {
            let rest_list: Vec<String> =
                rest_ids.iter().map(|&i| list[i as usize].clone()).collect();
            Some((
                LiteralSet::build_choosing(&rest_list, false, dfa, Choice::Cheapest)?,
                rest_ids,
            ))
        };
        Some(WindowedSet { windowed, rest })
    }

    #[inline]
    fn find_all(&self, text: &[u8], found: &mut impl FnMut(u32)) {
        self.windowed.find_all(text, found);
        if let Some((rest, ids)) = &self.rest {
            // Through a trait object: a generic call would instantiate itself without end.
            let remap: &mut dyn FnMut(u32) = &mut |i| found(ids[i as usize]);
            rest.find_all_dyn(text, remap);
        }
    }
}

/// Which search [`LiteralSet::build_choosing`] takes (the tests and the benchmark example
/// force each).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Choice {
    /// The one with the least estimated cost.
    Cheapest,
    /// A gate if there is one.
    Gate,
    /// A gate if there is one, its grams searched without Teddy.
    GateWithoutTeddy,
    /// No gate.
    Plain,
    /// One automaton.
    Automaton,
    /// Windows, if the search ignores no case.
    Windowed,
}

/// A search without a gate.
#[derive(Debug)]
enum Plain {
    One(Box<memmem::Finder<'static>>),
    Packed(Leftmost<packed::Searcher>),
    Full(Leftmost<AhoCorasick>),
}

impl LiteralSet {
    /// The set of `list` (ids are indices), matched ASCII case-insensitively or not; `dfa`
    /// asks for a DFA rather than an NFA when the set needs a full automaton. `None` when the
    /// automaton cannot be built.
    pub(crate) fn build(
        list: &[String],
        ascii_case_insensitive: bool,
        dfa: bool,
    ) -> Option<LiteralSet> {
        LiteralSet::build_choosing(list, ascii_case_insensitive, dfa, Choice::Cheapest)
    }

    pub(crate) fn build_choosing(
        list: &[String],
        ascii_case_insensitive: bool,
        dfa: bool,
        choice: Choice,
    ) -> Option<LiteralSet> {
        let keys = folded(list, ascii_case_insensitive);
        let model = Model::new();
        let ci = ascii_case_insensitive;
        let windowed = match choice {
            Choice::Windowed => true,
            Choice::Cheapest => keys.iter().filter(|k| k.len() >= SHORT).count() >= WINDOWED_MIN,
            _ => false,
        };
        if windowed
            && !ci
            && let Some(set) = LiteralSet::by_windows(list, &keys, dfa, &model)
        {
            return Some(set);
        }
        // `memmem` or Teddy if they can search the set; the automaton is built only if taken.
        let light = match choice {
            Choice::Automaton => None,
            _ => Plain::build_light(&keys, ci, &model),
        };
        let plain_cost = light.as_ref().map_or(model.full_cost(dfa), |(_, c)| *c);
        let gate = match choice {
            Choice::Plain | Choice::Automaton => None,
            Choice::Cheapest | Choice::Gate | Choice::Windowed => {
                Gate::build(&keys, ci, &model, true)
            }
            Choice::GateWithoutTeddy => Gate::build(&keys, ci, &model, false),
        };
        let forced = matches!(choice, Choice::Gate | Choice::GateWithoutTeddy);
        let gate = match gate {
            Some((gate, g)) if g * GATE_MARGIN < plain_cost || forced => {
                return Some(LiteralSet {
                    imp: Imp::Gate(Box::new(gate)),
                });
            }
            gate => gate,
        };
        if light.is_none()
            && choice == Choice::Cheapest
            && windows_for_automaton(&keys, ci)
            && let Some(set) = LiteralSet::by_windows(list, &keys, dfa, &model)
        {
            return Some(set);
        }
        let plain = match light {
            Some((plain, _)) => Some(plain),
            None => Leftmost::<AhoCorasick>::build(list, &keys, ci, dfa).map(Plain::Full),
        };
        let imp = match (plain, gate) {
            (Some(plain), _) => Imp::Plain(plain),
            (None, Some((gate, _))) => Imp::Gate(Box::new(gate)),
            (None, None) => return None,
        };
        Some(LiteralSet { imp })
    }

    /// The set searched by its windows, `None` if it cannot be (crowded windows).
    fn by_windows(
        list: &[String],
        keys: &[Vec<u8>],
        dfa: bool,
        model: &Model,
    ) -> Option<LiteralSet> {
        WindowedSet::build(list, keys, dfa, model).map(|set| LiteralSet {
            imp: Imp::Windowed(Box::new(set)),
        })
    }

    /// Heap bytes used by the search structures (for tuning: the benchmark example).
    #[allow(dead_code)]
    pub(crate) fn memory_usage(&self) -> usize {
        match &self.imp {
            Imp::Plain(p) => p.memory_usage(),
            Imp::Windowed(w) => {
                w.windowed.memory_usage() + w.rest.as_ref().map_or(0, |(r, _)| r.memory_usage())
            }
            Imp::Gate(g) => {
                g.rest.as_ref().map_or(0, Plain::memory_usage)
                    + match &g.finder {
                        GramFinder::One(_) => 0,
                        GramFinder::Packed(s) => s.memory_usage(),
                        GramFinder::Automaton(a) => a.memory_usage(),
                    }
                    + g.members.len() * std::mem::size_of::<Member>()
                    + g.pool.len()
            }
        }
    }

    fn find_all_dyn(&self, text: &[u8], found: &mut dyn FnMut(u32)) {
        self.find_all(text, found);
    }

    /// Calls `found` with the id of every literal that occurs in `text` (a literal may be
    /// reported more than once).
    #[inline]
    pub fn find_all(&self, text: &[u8], mut found: impl FnMut(u32)) {
        match &self.imp {
            Imp::Plain(p) => p.find_all(text, &mut found),
            Imp::Gate(g) => g.find_all(text, &mut found),
            Imp::Windowed(w) => w.find_all(text, &mut found),
        }
    }
}

/// Whether a set that needs a full automaton is searched by windows instead (see
/// [`AUTOMATON_WINDOWED_MIN`]).
fn windows_for_automaton(keys: &[Vec<u8>], ascii_case_insensitive: bool) -> bool {
    !ascii_case_insensitive
        && keys.iter().filter(|k| k.len() >= SHORT).count() >= AUTOMATON_WINDOWED_MIN
}

/// The literals as searched: lower case if the search ignores ASCII case.
fn folded(list: &[String], ascii_case_insensitive: bool) -> Vec<Vec<u8>> {
    list.iter()
        .map(|k| {
            if ascii_case_insensitive {
                k.as_bytes().to_ascii_lowercase()
            } else {
                k.as_bytes().to_vec()
            }
        })
        .collect()
}

impl Plain {
    /// `memmem` for one literal, else Teddy for up to 64 (it is also what the automaton
    /// would use as its prefilter, without the automaton's overhead), with its estimated
    /// cost; `None` if the set needs an automaton.
    fn build_light(
        keys: &[Vec<u8>],
        ascii_case_insensitive: bool,
        model: &Model,
    ) -> Option<(Plain, f64)> {
        if let Some((one, c)) = model.one(keys, ascii_case_insensitive) {
            return Some((Plain::One(one), c));
        }
        model
            .packed(keys, ascii_case_insensitive)
            .map(|(p, c)| (Plain::Packed(p), c))
    }

    /// The search of a gate's literals left without a gram: `memmem` or Teddy (with a full
    /// automaton, the gate would only add work).
    fn build_rest(keys: &[Vec<u8>], ascii_case_insensitive: bool, model: &Model) -> Option<Plain> {
        Plain::build_light(keys, ascii_case_insensitive, model).map(|(p, _)| p)
    }

    fn memory_usage(&self) -> usize {
        match self {
            Plain::One(_) => 0,
            Plain::Packed(p) => p.searcher.memory_usage() + p.implied_ids.len() * 4,
            Plain::Full(f) => f.searcher.memory_usage() + f.implied_ids.len() * 4,
        }
    }

    #[inline]
    fn find_all(&self, text: &[u8], found: &mut impl FnMut(u32)) {
        match self {
            Plain::One(f) => {
                if f.find(text).is_some() {
                    found(0);
                }
            }
            Plain::Packed(p) => p.find_all(text, found),
            Plain::Full(f) => f.find_all(text, found),
        }
    }
}

/// A leftmost-longest searcher (Teddy or an automaton).
trait Searcher {
    /// The leftmost-longest match starting at or after `at`: its start and pattern id.
    fn find_at(&self, text: &[u8], at: usize) -> Option<(usize, usize)>;
}

impl Searcher for packed::Searcher {
    #[inline]
    fn find_at(&self, text: &[u8], at: usize) -> Option<(usize, usize)> {
        self.find_in(text, aho_corasick::Span::from(at..text.len()))
            .map(|m| (m.start(), m.pattern().as_usize()))
    }
}

impl Searcher for AhoCorasick {
    #[inline]
    fn find_at(&self, text: &[u8], at: usize) -> Option<(usize, usize)> {
        self.find(aho_corasick::Input::new(text).span(at..text.len()))
            .map(|m| (m.start(), m.pattern().as_usize()))
    }
}

/// Every literal's occurrences through a leftmost-longest searcher restarted one byte after
/// each match's start: a search from `at` returns the leftmost start `s` at which any
/// literal occurs, so none starts in `at..s`; the literals that occur at `s` are all
/// prefixes of the text from `s`, hence prefixes of the longest one, which is the one
/// reported; each literal's prefixes among the literals are listed in advance. Leftmost
/// searches let SIMD searchers work (Teddy), which overlapping searches cannot.
#[derive(Debug)]
struct Leftmost<S> {
    searcher: S,
    /// Per literal id: the literal and the other literals that are prefixes of it, as a
    /// range into `implied_ids`.
    implied: Vec<(u32, u32)>,
    implied_ids: Vec<u32>,
}

impl<S: Searcher> Leftmost<S> {
    fn new(searcher: S, keys: &[Vec<u8>]) -> Leftmost<S> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        // Sorted, a literal's prefixes come before it, and every literal in between starts
        // with them too: a stack holds the prefix chain of the current literal, as groups of
        // equal literals (the spellings of one literal in a case-insensitive set: the
        // searcher reports only one of them).
        let mut groups: Vec<(Vec<u32>, Option<usize>)> = Vec::new();
        let mut group_of = vec![0usize; keys.len()];
        let mut stack: Vec<usize> = Vec::new();
        for &i in &order {
            while let Some(&top) = stack.last() {
                if keys[i].starts_with(&keys[groups[top].0[0] as usize]) {
                    break;
                }
                stack.pop();
            }
            if let Some(&top) = stack.last()
                && keys[groups[top].0[0] as usize] == keys[i]
            {
                groups[top].0.push(i as u32);
                group_of[i] = top;
                continue;
            }
            groups.push((vec![i as u32], stack.last().copied()));
            group_of[i] = groups.len() - 1;
            stack.push(groups.len() - 1);
        }
        let mut implied = Vec::with_capacity(keys.len());
        let mut implied_ids = Vec::new();
        for &group in &group_of {
            let a = implied_ids.len() as u32;
            let mut g = Some(group);
            while let Some(x) = g {
                implied_ids.extend(&groups[x].0);
                g = groups[x].1;
            }
            implied.push((a, implied_ids.len() as u32));
        }
        Leftmost {
            searcher,
            implied,
            implied_ids,
        }
    }

    #[inline]
    fn find_all(&self, text: &[u8], found: &mut impl FnMut(u32)) {
        // Up to the end: an empty literal occurs there too.
        let mut at = 0;
        while at <= text.len() {
            let Some((start, pattern)) = self.searcher.find_at(text, at) else {
                break;
            };
            let (a, b) = self.implied[pattern];
            for &id in &self.implied_ids[a as usize..b as usize] {
                found(id);
            }
            at = start + 1;
        }
    }
}

impl Leftmost<AhoCorasick> {
    fn build(
        list: &[String],
        keys: &[Vec<u8>],
        ascii_case_insensitive: bool,
        dfa: bool,
    ) -> Option<Leftmost<AhoCorasick>> {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(ascii_case_insensitive)
            .kind(Some(if dfa {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            }))
            .build(list)
            .ok()?;
        Some(Leftmost::new(ac, keys))
    }
}

/// The byte classes of the rarity model: folded printable ASCII, tab, LF and CR; every
/// other byte is in one more class.
const MODEL_BYTES: &[u8] =
    b"\t\n\r !\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const MODEL_CLASSES: usize = MODEL_BYTES.len() + 1;

/// How rare a byte is after another in folded log text: row `a`, column `b` (by class) holds
/// `-2 log2 p(b | a)` (half bits) as the character `'0' + value`; the last row holds
/// `-2 log2 p(b)`. Measured once on the folded field values of Windows event logs (Sysmon,
/// Security, PowerShell, ...; each field's values counted up to 300 KB so that a few huge
/// fields do not dominate), smoothed towards the byte frequencies.
#[rustfmt::skip]
const MODEL_RARITY: [&str; MODEL_CLASSES + 1] = [
    r"3O>@^DB<9UQOOZPPKJOAIIAJKKKKKKOVNUXZAGUaP[FI989IB6COLHBBF9M98?:K?JJP8QB\O",
    r"7<93dT@A[BFUUJVVJAUMOOOPQQJQQQUBT\^`JM[gVa?O8;B<E=;URNBM<4H=8><QJPPJAW@bV",
    r"[0UOcT_XZ[WUU`VUPPTMOOOPQPQQQQT[T[^`ZMZgVaKNMMKOPPMURNNMLOSMLMPQMPOVXWXbU",
    r"NH@4j;E<@@@:FIEO:B;@;?BEBFFEGI[?<HdE>FaQFL:>89>;B=<DE;;9::B=8<>::DHK?D@iD",
    r"M:HAV9R:MMIGGRHHCB<5<AABCCCCCCGN:NPR7<MYHS4A??9BCC?GD@6@?BE?;?BC@BBHKIKTH",
    r"\B56e@aBHBHC@JW@HFCD8:???????H6]UADaBB\hWbAA7AB;B@6HKABA8AT==?CCAKKLLFFdW",
    r"Q;=38J7NP;MKKVLKFFJ:@EE;GFGGGGJQJ>TVP4P]LWADC9:EFFCKHDDCB:H<=CF><FELNLNXK",
    r"XQR@`P\CWDG:D\RRM;QFLKLLMMMMMMQXGXZDW;Wc4]:?<999>;8<?<::?9O:78>@<CL=9SU_R",
    r"VPP;^NZS4URPPZPPKKOH;7=9?K<;EEEVNVY[U8UaP[CIBHFAKK3OMDIHGAMH9>EL?KJP:QS]P",
    r"VOP=^NZSU>Q<PZPPKJOH>IJJKKKKKKOVNVXZUHUaP[7IB@FJ3DGOM3DHBJMDFDJDHKJPSQS]P",
    r"Y@>=bG^WYC>E5=4:A?:?>?N@OOBO@>9ZRZ\DGB=IB_;=;:;C=;;B?=;<=;?<9:?O<?B>?@BaT",
    r"[DCEF?`:[[7=:HVC@CH5:JBPQQQJGQU\T\E??H[HHJ:B?=:5:=BJJNA>5>F<?AEC9;PHYWYbV",
    r"D>98cA_XJDD5;H8DD<HMEDEPPPQQQ39AJ[GHB::fF`HCBGGFGJFHRN?FFOR@@GHJ<POU>8AbU",
    r"PJK8Y=U=PP5J:9KK?<JBDDDEFFFFFFJQIP?U?3:\KVA;B?@DE5BJGCCBBEHB>BEFCEEKNLNWJ",
    r"[JU;cF_@ZZ58D_?UPOEA487898:;9PT[A[]_DGAfU`<@><?>DCECFIDMEIRIEEFCCHFEXVXbU",
    r"[?>7cDE@JZ?UU`VU?PH@8:?AADADBPT[T[^`9MFfV`KN@DDCGF4TRI4MBJRB4BPQHPOVGVXbU",
    r"`OBBhOd]_`EZZe[ZCUY779=89==<:VY`YLce_ROkMe::<;<<ED@A@E>997F=8@?B5;TI][]gZ",
    r"aDDCiFeJ@`DGPL[[MDZ97<<A=>@BBVZaYace`F`lGf=@:43C@A>CE@<=C=K@<=?C<BLJK\^H[",
    r"\KVFdF`Y[K<FVCFVQF:<A<FDCFIGRRIKUK_a[N[HIa;?7<9=BA:VB:<@2<?;9;=>;CDF@HYcV",
    r"cDE?kBPNMGG]>gJ?:<I39:::;;;;;AHF[cRhM<HnBJ9;<<<=JJIKIIFJJMKICHJLH6MGIB?j]",
    r"aGA=jANEaIEJ?N\=9:H589:5:9999@CH;FdfL;CmEg:<;:;;J>FJIGGGJHJGIGIIIJKFHADP\",
    r"bLB?jAOLKJGQAfI>:9E8::::8;9:;@>OIIdfO3HmCM:;:;<;KEJIIHBFLIJHF>AHFHEFGBEi\",
    r"aNDEiAf^LJFIAfL@>>J992:;;9:::CGLZadf`CLmFL::;::;IHFJIPHIJIKHFEINEKLGF?Dh[",
    r"`LCBi@L^KHGK>eL=<;@589999:99:>LNOaceP:LlAI7::::9HJJGLHCGIGHIGEMHELMFG=?P[",
    r"`JDCh@KC_GHODOO?9=K898:796998DD`9`bdOAIkDF89:999KIKHFHE=IKIGGFJMGFGCF?EOZ",
    r"`ECAh?OBOIEL>dL<9>H8:99699988AE`9`MdMAHkFJ8:9997GIIHGNDHLIHIDGIHINMDF@CgZ",
    r"_FCAh@OJ_K[NAOZ?9?F9978887898AYFH`bdK>KkAM899999FIBHHCCJIHIHEELHIJHDE>DgZ",
    r"_HBBO?d]_HHJBdZ>:9@8998988999>?FH`Od_FKkGJ6:9:99HHBJHICIIEKEGDIL?IKCA?BfZ",
    r"_NC=h?J]IJHKBdJ>:;G8989888888?AOH`bd_?GkAK8:8989UJGFGGGEGFGEH?IJELHDC?=fZ",
    r"`AA6hDMOM_DCZdZZGG>>>===>ECDE=YHX`OdH1_kZeBBADECFDIMICECFCMEFDBKEMTKH[]gZ",
    r"\>:5IGF:IBKIVaVVQK;>:@?=>ED>AQ5\T\FaDF[KWa<86=;<CA?UG<BFA=K88>BB;QPIIW>cV",
    r"UOOI?NBRTUQOOZPOJJ2GIIDJKJKKKKNUNU=ZTCTaP[7H8::DJ=;OLB=GF8L98;:?=JIPRPR\O",
    r"]L?7e4a>\E>?VBWWHQJ:999:9;97:RV]?]_aCDJhWb;;:;;;GGEVTGF@CEJFA@GGARFWJXZdW",
    r"U63;]NY<D=QOOZDODJA8:=?JKJ==KKN7DBXDT>TaP[CH>?E8JA=OL>HAF;MG<8JKGJIP?PR\O",
    r"O<JC>HT<O9KIITJJED>BCCCDEEEEE9IPH83TO4O[JU<CAA<DEE;IFB>BADGA9ADEB6DJMKMVJ",
    r"Q@=DY<UN5P;5JUKKFEJ;DDEEFFFFFFJ@IQSUPCP\@VA;?CA9FF=J@C??B<HC99E?CFEK3LNXK",
    r"VPPJ^OZ9UV:>P?<PCKC:8AAAA@AAALOVOVYE@H;bQ\:<:H5A=K;PMA8>87N?6?=8HKJQSQS]P",
    r"c]]IkKJKccME]F^]RBPDCEEEIHHGIR\c\cHJHBboHR:<8;=?AB;F><9<?:J93=::4CMH?P`RN",
    r"V756^?Z8UC>C:CE4K9OHJJJ?LKLL?7;VC@C9AH:EQ\FI;HFJKKHPMIIHGJMCGHKLHKJQSQS]P",
    r"KEE>SCOHJJG8EOEE@6D=???@@@AAA@DKCKNPJ7J:EP59<=;?@:=D:>>=<?B=;<@A=@?EHFHR5",
    r"[JU?cS_JZZAT@_UUH>C=:=;AB<@:@PT[C[]JZI@f6`<=59<=@@9BDB69::B<:=?:9<BF@DFbU",
    r"PJ:CX=TMOPLJJUKJEEI=8D8E87:9FEIPIPSUO>O?KU@<AB@8E?B=G9C968GB<7EFBE9?MKMW?",
    r"eRMBmJIbNKHMDjJD@BM=<<>>>>>>>K?eGMhjN>doDj:889::8;==<79:>:<9:6;>>>=<QDGK_",
    r"bOICjKf_aaIKGfK>>?J9;<;:;;<;<FIbIbegOBamGg79::99;<98=9==8;=;<<:<:A==KAEi\",
    r"dSJ=lHMCMLFKEhHC?>G<=<><>><>=5CSJIfhSAQoHi8>;<8>=8=I<=;F7?=5?:<H=HAJIBEk^",
    r"OLG;RIh`KEFEAhJC=;I;==<=;<==<?FPCDfhLAKoDJ8=<=8=<>9JB6?C3?@====A=E@FKDHOP",
    r"eHC;J?MNKEDGEj@C@;J>>=>>@>???AEE<ETOK;CoAM8>::=>=DAL:96:C?@599=?=7:NMBFlM",
    r"a[D?iFe^aP]FGfI><AN:<:::;;;::ECaZadfPEPmCN7;;;:8@G8HA@<D8E===4>G?EAIJ@EhP",
    r"`LJ8hFd]MOD9CeHGD<I=GHF;LLD:HFI`E`ceF=CKCf76;=5E=>8E:?:=;A;8;<8G;J?H]LMgZ",
    r"`ID?hFd]MHCEHdOF:?IBF=IHGFKGMIGJ9Lce_@EkBO5F=A5C@C8F8><E4B:?=;<BD@@CG[MgI",
    r"cRL>lChaSKGIOhJHD=IELL@JHGOLMJCNHJfhcDKoFL;>59:>=F?HG;:27<I>::G<GIL?a_aS^",
    r"\IVBdT`YK[DVV`DVE@KHBDBBGBCCCQH\T\^`[EBgHK3AEA3A>B?BDBBA>A<?<C?@7BABYWYcV",
    r"^XG<gAc[^GGHIcHIC=EEIERSHAFKEFFGFGacG>IjCd4C>@3C9:>EE9B;CE;A;9:A<G=EMZ\eY",
    r"bI@=Q>K_KGEC>Q9CD::GDF=GOHGKNHFbDFLga:Hn@Q9>?>8B<A6IF4<B8>A=9;8F@I@HGO_LQ",
    r"bJD=jHg_QLDGAgENF=@HIH4KJIHNKKMKJbegM9bnBh6>>97F@G5IG?;D98BA:E@GBHDHK^`iQ",
    r"cKC;kDgINFC=FhLED=<G=D=LDDBIKBJNCEPhJ=Ko?K6@=38=8A=G?>?=<;DA;6<<CGCICPLjP",
    r"dQHAlMhaQLGSLiNQFDHFKGILOLGMSJAd]JgNcANoMM;;;<H7<JDH@::6<9C76>:@4;HGa`akO",
    r"a[I<iEe^JJCGFfGIB;?EBFECIHEII@=aGadIM:`P?P6F:;6C?:8GE:AA68=7;:9F?D?IM\Nh[",
    r"^XXBfKb[M]CXXbGMI?MGDEFFHHMHISW^K^`bMP]iXc23DDEC<HGCB@EGCD8FFD;F9AFG[Y[eX",
    r"cIL;RHgHKHFCDhLED;E?KJAHKKIJMF@cDGfRH<Do@i6<=;5?AB9I>@?<5:?=7:89BH9ID_NjR",
    r"eIF;TGRbMGFFEPLH:<CIGHLNKMMLMBFOFDgiF5KoCM:C>B6BD8<H=E<D7>AA<5A;AE5GLTML>",
    r"dHE9l=hIGIDF=hJG98E>BGB?GHMHMB>QHHfhL;ESAJ8A?=3AA<6JI@?B9?B8==>;<@<HLJGI=",
    r"aPNBiPe^L`EZ>eJ[VAHGILJFGJHHFIBaLaceP=`lPf6=>?5F<K;HE8=6F<F866EF<BGF^\Kh[",
    r"_OOAhKd]__GYMdIFL?HD;@G?LFKIFCI`I`bd_@_kHe376B6E@@5FFHDH:C?A<CEF>EFG][]gZ",
    r"c]H?kMg`LMHIPhIICCMHKKFM@@MKIRMKKcfhRHbnOh88EB8IKB3JEC>=;@C?3FDI>I@J`^`j]",
    r"`H[CiHe]K`DJMeOMJAM:4?>?A;F=GVGOL`Me`BMlMf;D?C2DDDDFKF@FF;<D8;FH<E<H^\^MZ",
    r"`IE9LEe]OEIB?eKDI?CMFEIJHIFJJAFaFCOeK8IlEf9?A@=D?CADF@=?C:<D1?GE;DFGC\Lg[",
    r"[JU>cF_XZEJTT_JUP?EFA=;@@B@A@BTDC[]_JGJfB`3@BA<A:A;DDA?>>B3@>E?B7?@AXVXbF",
    r"X;8<`Q\:WX@RR]SRMMQ99=99595>;NQXQX[]BJWdS^<:;:<9=CCROKF:D@OB@>G@JMLSUS?_R",
    r"ZTT=bE^GYY@GT^TTDNIFBMHHIIIIIOSZRZ\^YLYeB_JG0LCEGOESQMMLEGQLFF7OFONBWUWaT",
    r"X:5:G<E=WC<R>\R;C9>88:8;=<=>?M?BPXE\E4Wc=]HK;JACMM?QOJ=JICOCCIEBJMLRGE<_R",
    r"NHIBWGSLNNJHHSIIDCHA5B6CDDDDDDHOGOQSNANZIT?B@=>CDD@HEAAA@CF3?5CDACCILJLVI",
    r"[UU2cT_X[[WUU`VUPPTMOOOPQQQQQQT[T[^`ZEZFVHINIMKOPPIURFNILJSHFIPEMPPJXWXb2",
    r"HAB;P@LEGGCAALBB=<A:;;<<======AH@HJLG:GSBM8;9:7<==9A>:::9<?:89<=:=<BECEOB",
];

/// The class of each byte in [`MODEL_RARITY`].
const MODEL_CLASS: [u8; 256] = {
    let mut class = [(MODEL_CLASSES - 1) as u8; 256];
    let mut i = 0;
    while i < MODEL_BYTES.len() {
        class[MODEL_BYTES[i] as usize] = i as u8;
        i += 1;
    }
    class
};

/// How rare byte `b` (lower case) is after byte `prev` in folded log text (`None`: at a
/// text's start), in half bits, by the rarity model.
pub(super) fn half_bits(prev: Option<u8>, b: u8) -> u32 {
    let row = prev.map_or(MODEL_CLASSES, |p| usize::from(MODEL_CLASS[usize::from(p)]));
    let col = usize::from(MODEL_CLASS[usize::from(b)]);
    u32::from(MODEL_RARITY[row].as_bytes()[col] - b'0')
}

/// Tokens frequent in Windows event fields however rare their bytes are.
const COMMON_TOKENS: &[&str] = &[
    "|c:\\windows\\system32\\",
    "c:\\windows\\syswow64\\",
    "c:\\program files (x86)\\",
    "c:\\programdata\\",
    "c:\\users\\",
    "\\appdata\\local\\temp\\",
    "\\appdata\\roaming\\microsoft\\windows\\",
    "\\device\\harddiskvolume",
    "\\windowspowershell\\v1.0\\powershell.exe",
    "\\svchost.exe -k ",
    "microsoft",
    ".exe",
    ".dll",
    ".sys",
    ".tmp",
    ".xml",
    "hklm\\software\\microsoft\\windows\\currentversion\\",
    "hklm\\system\\currentcontrolset\\services\\",
    "hkcu\\software\\",
    "hku\\",
    "\\registry\\machine\\",
    "\\registry\\user\\",
    "s-1-5-21-",
    "nt authority\\system",
    "administrator",
    "https://",
    "127.0.0.1",
    "0x00000000",
    "00000000-0000-0000",
    "kernelbase.dll+",
    "ntdll.dll+",
    "kernel32.dll+",
    "unknown(",
];
/// Least probability of a gram within a common token.
const COMMON_PROBABILITY: f64 = 1.0 / 32.0;
/// Least probability of a gram in all of a set's literals.
const VOCABULARY_PROBABILITY: f64 = 1.0 / 128.0;

/// A gate's estimated cost is optimistic: its grams are those the model finds rarest, so
/// those whose rarity it overestimates most. A gate is chosen if its estimate times this is
/// below the cost of a plain search.
const GATE_MARGIN: f64 = 2.0;

/// Longest gram.
const GRAM_LEN: usize = 4;
/// At most this many grams: Teddy puts them in 8 or 16 buckets, and more grams per bucket mean
/// more false candidates. Case-insensitive, each spelling of a gram is a pattern: more are
/// allowed (they share their buckets' fingerprints of other bytes).
fn max_patterns(ascii_case_insensitive: bool) -> usize {
    if ascii_case_insensitive { 32 } else { 16 }
}
/// Costs of one more gram tried in the greedy choice of a gate's grams (the cost is really
/// in Teddy's false candidates, but more so in the literals left out if there are too many
/// literals per gram).
const GRAM_COSTS: [f64; 5] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
/// Grams with more literals than this index them by two bytes near the gram.
const INDEX_MIN: usize = 8;

/// Estimated search costs per text byte, in the unit of one literal compared with the text
/// (a few nanoseconds).
struct Cost;

impl Cost {
    /// The fixed cost of one pass over a text (calling a searcher), spread over a text of
    /// typical length (some 100 bytes).
    const PASS: f64 = 0.1;
    /// A pass with `memmem`.
    const SCAN_ONE: f64 = Cost::PASS + 0.02;
    /// A pass with Teddy.
    const SCAN_PACKED: f64 = Cost::PASS + 0.08;
    /// A pass with a DFA / an NFA (measured on sets of a few hundred to thousands of
    /// literals: their tables do not fit in the CPU's caches).
    const SCAN_DFA: f64 = Cost::PASS + 1.2;
    const SCAN_NFA: f64 = Cost::PASS + 2.5;
    /// A gram occurrence (returning from the searcher, restarting it), besides comparing
    /// the gram's literals.
    const HIT: f64 = 5.0;
    /// A false candidate of Teddy (checked inside the searcher).
    const VERIFY: f64 = 1.0;
}

/// The rarity model: estimated probability that a string (lower case) starts at a given
/// position of a folded log text, as a Markov chain over bytes.
struct Model {
    /// The substrings of 3 and 4 bytes of [`COMMON_TOKENS`] (as [`gram_code`]s).
    common: HashSet<u64, BuildHasherDefault<GramHasher>>,
    /// A bit per hash of the codes in `common` (see [`Model::is_common`]): most grams are
    /// not common, and this tells most of them without a lookup.
    common_bits: [u64; Model::COMMON_WORDS],
}

impl Model {
    const COMMON_WORDS: usize = 256;
    /// The most literals a gate searches on their own (with Teddy, see [`Model::rest_cost`]).
    const REST_MAX: usize = 64;

    fn new() -> Model {
        let common: HashSet<u64, BuildHasherDefault<GramHasher>> = COMMON_TOKENS
            .iter()
            .flat_map(|t| (3..=GRAM_LEN).flat_map(move |n| t.as_bytes().windows(n)))
            .map(gram_code)
            .collect();
        let mut common_bits = [0u64; Model::COMMON_WORDS];
        for &code in &common {
            let bit = Model::common_bit(code);
            common_bits[bit / 64] |= 1 << (bit % 64);
        }
        Model {
            common,
            common_bits,
        }
    }

    #[inline]
    fn common_bit(code: u64) -> usize {
        (code.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> (64 - (Model::COMMON_WORDS * 64).trailing_zeros())) as usize
    }

    /// Is the gram of `code` in `common`?
    #[inline]
    fn is_common(&self, code: u64) -> bool {
        let bit = Model::common_bit(code);
        self.common_bits[bit / 64] & 1 << (bit % 64) != 0 && self.common.contains(&code)
    }

    /// The probability of gram `g` (lower case), found in `df` of the set's `n` literals:
    /// a common token's part is frequent whatever its bytes, and so is (somewhat) a part of
    /// many literals, which tells how the field's values look.
    fn gram_probability(&self, g: &[u8], df: usize, n: usize) -> f64 {
        let mut p = self.probability(g);
        if self.is_common(gram_code(g)) {
            p = p.max(COMMON_PROBABILITY);
        } else if g.windows(3).any(|w| self.is_common(gram_code(w))) {
            p = p.max(COMMON_PROBABILITY / 16.0);
        }
        if df >= 2 {
            p = p.max(Model::vocabulary_probability(df, n));
        }
        p
    }

    /// The least probability of a gram found in `df` of the set's `n` literals (it does not
    /// decrease as `df` grows).
    fn vocabulary_probability(df: usize, n: usize) -> f64 {
        VOCABULARY_PROBABILITY * df as f64 / n as f64
    }

    fn probability(&self, s: &[u8]) -> f64 {
        let mut prev = None;
        let mut sum = 0u32;
        for &b in s {
            let b = b.to_ascii_lowercase();
            sum += half_bits(prev, b);
            prev = Some(b);
        }
        // The same values, computed once (grams of up to 4 bytes stay below 256 half bits).
        static POWERS: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
        let of = |sum: u32| (-f64::from(sum) / 2.0).exp2();
        match POWERS
            .get_or_init(|| std::array::from_fn(|s| of(s as u32)))
            .get(sum as usize)
        {
            Some(&p) => p,
            None => of(sum),
        }
    }

    /// The offset of the window of `w` bytes of `key` least likely in text (for
    /// [`Windowed`]), rated as a gram is: the half bits of its bytes, each after the one
    /// before, but no more than a common token (or a part of one) is worth whatever its bytes.
    /// One pass over the key, whatever `w`.
    fn rarest_window(&self, key: &[u8], w: usize) -> usize {
        /// [`COMMON_PROBABILITY`], and a sixteenth of it, in half bits.
        // (Checked against the probabilities by a test.)
        const COMMON_CAP: u32 = 10;
        const PART_CAP: u32 = 18;
        if w == 0 || key.len() < w {
            return 0;
        }
        let lower = |i: usize| key[i].to_ascii_lowercase();
        // chain[j]: the half bits of key[1..j], each after the byte before.
        let mut chain = Vec::with_capacity(key.len() + 1);
        chain.push(0u32);
        chain.push(0u32);
        for j in 1..key.len() {
            let last = *chain.last().unwrap_or(&0);
            chain.push(last + half_bits(Some(lower(j - 1)), lower(j)));
        }
        // parts[j]: how many of the 3-byte grams starting before j are common.
        let mut parts = Vec::with_capacity(key.len() + 1);
        parts.push(0u32);
        for j in 0..key.len() {
            let common = j + 3 <= key.len() && self.is_common(gram_code(&key[j..j + 3]));
            let last = *parts.last().unwrap_or(&0);
            parts.push(last + u32::from(common));
        }
        let mut best = (0, 0u32);
        for o in 0..=key.len() - w {
            let mut bits = half_bits(None, lower(o)) + chain[o + w] - chain[o + 1];
            if w <= GRAM_LEN && self.is_common(gram_code(&key[o..o + w])) {
                bits = bits.min(COMMON_CAP);
            } else if w >= 3 && parts[o + w - 2] > parts[o] {
                bits = bits.min(PART_CAP);
            }
            if o == 0 || bits > best.1 {
                best = (o, bits);
            }
        }
        best.0
    }

    fn full_cost(&self, dfa: bool) -> f64 {
        if dfa { Cost::SCAN_DFA } else { Cost::SCAN_NFA }
    }

    /// Teddy over the literals themselves (up to 64, case-sensitive): its candidates are the
    /// positions where a literal's first bytes occur.
    fn packed(
        &self,
        keys: &[Vec<u8>],
        ascii_case_insensitive: bool,
    ) -> Option<(Leftmost<packed::Searcher>, f64)> {
        if ascii_case_insensitive || keys.len() > 64 || keys.iter().any(Vec::is_empty) {
            return None;
        }
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(keys)
            .build()?;
        let mask = keys.iter().map(Vec::len).min().unwrap_or(0).min(4);
        let hits: f64 = keys
            .iter()
            .map(|k| self.gram_probability(&k[..mask], 0, keys.len()))
            .sum();
        Some((
            Leftmost::new(searcher, keys),
            Cost::SCAN_PACKED + hits * Cost::VERIFY,
        ))
    }

    /// One literal with `memmem` (which finds rare bytes of it first).
    fn one(
        &self,
        keys: &[Vec<u8>],
        ascii_case_insensitive: bool,
    ) -> Option<(Box<memmem::Finder<'static>>, f64)> {
        match keys {
            [k] if !(k.is_empty()
                || ascii_case_insensitive && k.iter().any(u8::is_ascii_alphabetic)) =>
            {
                Some((
                    Box::new(memmem::Finder::new(k).into_owned()),
                    Cost::SCAN_ONE,
                ))
            }
            _ => None,
        }
    }

    /// The estimated cost of searching a gate's remaining `keys` (with `memmem` or Teddy: with
    /// a full automaton, the gate would only add work).
    fn rest_cost(&self, keys: &[&Vec<u8>], ascii_case_insensitive: bool) -> f64 {
        match keys {
            [] => 0.0,
            [k] if !(ascii_case_insensitive && k.iter().any(u8::is_ascii_alphabetic)) => {
                Cost::SCAN_ONE
            }
            _ if !ascii_case_insensitive && keys.len() <= Model::REST_MAX => {
                let mask = keys.iter().map(|k| k.len()).min().unwrap_or(0).min(4);
                Cost::SCAN_PACKED
                    + keys
                        .iter()
                        .map(|k| self.gram_probability(&k[..mask], 0, keys.len()) * Cost::VERIFY)
                        .sum::<f64>()
            }
            _ => f64::INFINITY,
        }
    }
}

/// Estimated literal comparisons at a gram occurrence with `n` literals (indexed when many).
fn comparisons(n: usize) -> f64 {
    (n as f64).min(4.0 + n as f64 / 16.0)
}

/// The gram gate (see the module doc).
#[derive(Debug)]
struct Gate {
    finder: GramFinder,
    /// Per searcher pattern id (the grams, or all case variants of them): the gram id.
    gram_of_pattern: Vec<u32>,
    grams: Vec<GramEntry>,
    members: Vec<Member>,
    /// The other grams that can start where a gram starts (one is a prefix of the other: the
    /// searcher reports only one of them).
    related: Vec<u32>,
    /// The grams' and literals' bytes.
    pool: Vec<u8>,
    /// The literals without a gram (ids in `rest_ids`).
    rest: Option<Plain>,
    rest_ids: Vec<u32>,
    ascii_case_insensitive: bool,
}

#[derive(Debug)]
struct GramEntry {
    bytes: (u32, u32),
    /// The gram's literals in `members`: those up to `unindexed` are compared at every
    /// occurrence, the others only if their `key` is the two text bytes at `key_at` from
    /// the occurrence (they are sorted by key).
    members: (u32, u32),
    unindexed: u32,
    key_at: i32,
    related: (u32, u32),
}

/// A literal filed under a gram: it starts `offset` bytes before the gram.
#[derive(Debug)]
struct Member {
    id: u32,
    offset: u32,
    bytes: (u32, u32),
    key: u16,
}

/// The key of a literal under its gram: its two bytes at `key_at` from the gram (which
/// starts at `offset`), if it has them.
fn member_key(k: &[u8], offset: usize, key_at: i32) -> Option<u16> {
    let at = usize::try_from(offset as i64 + i64::from(key_at)).ok()?;
    let b = k.get(at..at + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

#[derive(Debug)]
enum GramFinder {
    One(memmem::Finder<'static>),
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl GramFinder {
    /// The leftmost gram occurrence starting at or after `at`: its start and pattern id.
    #[inline]
    fn find(&self, text: &[u8], at: usize) -> Option<(usize, usize)> {
        match self {
            GramFinder::One(f) => f.find(&text[at..]).map(|i| (at + i, 0)),
            GramFinder::Packed(s) => s.find_at(text, at),
            GramFinder::Automaton(ac) => ac.find_at(text, at),
        }
    }
}

/// All spellings of `g` with its ASCII letters in either case.
fn case_variants(g: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::with_capacity(g.len())];
    for &b in g {
        if b.is_ascii_alphabetic() {
            let mut upper = out.clone();
            for v in &mut out {
                v.push(b.to_ascii_lowercase());
            }
            for v in &mut upper {
                v.push(b.to_ascii_uppercase());
            }
            out.extend(upper);
        } else {
            for v in &mut out {
                v.push(b);
            }
        }
    }
    out
}

/// How many patterns the searcher needs for gram `g` (all its case variants if the search
/// ignores ASCII case).
fn variant_count(g: &[u8], ascii_case_insensitive: bool) -> usize {
    if ascii_case_insensitive {
        1 << g.iter().filter(|b| b.is_ascii_alphabetic()).count()
    } else {
        1
    }
}

/// A candidate gram: its bytes (lower case if the search ignores ASCII case), estimated
/// probability at a text position, and the literals containing it (ascending).
struct Candidate<'k> {
    gram: &'k [u8],
    probability: f64,
    literals: &'k [u32],
}

/// A gram of up to 7 bytes as a number (with its length).
fn gram_code(g: &[u8]) -> u64 {
    g.iter()
        .fold(g.len() as u64, |code, &b| code << 8 | u64::from(b))
}

/// A hasher of grams coded as numbers (multiplicative: their bits are already spread).
#[derive(Default)]
struct GramHasher(u64);

impl std::hash::Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

/// Grams by code: open addressing with linear probing, one `u64` per slot holding the
/// gram's [`gram_code`] (at most 35 bits: up to 4 bytes and the length, never 0) above its
/// id (0: a free slot). A lookup costs about one cache miss (the table of a set of thousands
/// of literals outgrows the caches, and its lookups were most of a gate's build time): the
/// slots are kept small and the table at most 3/4 full.
struct GramTable {
    slots: Vec<u64>,
    shift: u32,
    len: usize,
}

impl GramTable {
    /// Bits of a slot that hold the gram id.
    const ID_BITS: u32 = 64 - 35;
    /// The most grams (ids) the table holds.
    const MAX_GRAMS: usize = 1 << GramTable::ID_BITS;

    fn with_slots(n: usize) -> GramTable {
        let size = n.next_power_of_two().max(64);
        GramTable {
            slots: vec![0; size],
            shift: 64 - size.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn home(&self, code: u64) -> usize {
        (code.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The id of the gram `code` (at most 35 bits), or `new`, which is then its id
    /// (below [`GramTable::MAX_GRAMS`]), if it is not there.
    #[inline]
    fn id(&mut self, code: u64, new: u32) -> u32 {
        debug_assert!(code >> 35 == 0 && (new as usize) < GramTable::MAX_GRAMS);
        if 4 * (self.len + 1) > 3 * self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(code);
        loop {
            let s = self.slots[at];
            if s >> GramTable::ID_BITS == code {
                return (s & ((1 << GramTable::ID_BITS) - 1)) as u32;
            }
            if s == 0 {
                self.len += 1;
                self.slots[at] = code << GramTable::ID_BITS | u64::from(new);
                return new;
            }
            at = (at + 1) & mask;
        }
    }

    #[cold]
    fn grow(&mut self) {
        let mut bigger = GramTable::with_slots(2 * self.slots.len());
        let mask = bigger.slots.len() - 1;
        for &s in self.slots.iter().filter(|&&s| s != 0) {
            let mut at = bigger.home(s >> GramTable::ID_BITS);
            while bigger.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            bigger.slots[at] = s;
        }
        bigger.len = self.len;
        *self = bigger;
    }
}

/// The candidate grams of `keys`: their substrings of 3 and [`GRAM_LEN`] bytes (a shorter
/// literal is its own gram); case-insensitive, also those of 2 bytes without letters (a gram
/// needs a pattern per spelling: `::` can be better than `s::`).
fn candidates<'k>(
    keys: &'k [Vec<u8>],
    ascii_case_insensitive: bool,
    model: &Model,
    literal_lists: &'k mut Vec<u32>,
) -> Option<Vec<Candidate<'k>>> {
    // Grams of up to 4 bytes as numbers (with their length) in a small table, hashed by a
    // fixed function (fast, and the same candidates in the same order in every build, so
    // that ties between grams are broken the same way); then the literals of each gram by a
    // counting sort of (gram, literal) pairs.
    // Sized for a distinct gram per 3 to 4 literal bytes, as in the sets of thousands of
    // literals of a Windows rule set (it grows if need be): a larger table only takes more
    // cache misses.
    let bytes: usize = keys.iter().map(Vec::len).sum();
    let mut index = GramTable::with_slots(bytes / 4);
    let mut grams: Vec<&[u8]> = Vec::new();
    // Per gram: the last literal filed under it.
    let mut last: Vec<u32> = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let lens: &[usize] = match (k.len(), ascii_case_insensitive) {
            (..=3, false) => &[k.len()],
            (..=3, true) => &[2, k.len()],
            (_, false) => &[3, GRAM_LEN],
            (_, true) => &[2, 3, GRAM_LEN],
        };
        for &n in lens {
            for w in k.windows(n) {
                if n == 2 && n < k.len() && w.iter().any(u8::is_ascii_alphabetic) {
                    continue;
                }
                if grams.len() == GramTable::MAX_GRAMS {
                    return None;
                }
                let g = index.id(gram_code(w), grams.len() as u32);
                if g as usize == grams.len() {
                    grams.push(w);
                    last.push(u32::MAX);
                }
                // Each literal once per gram.
                if last[g as usize] != i as u32 {
                    last[g as usize] = i as u32;
                    pairs.push((g, i as u32));
                }
            }
        }
    }
    let mut starts = vec![0u32; grams.len() + 1];
    for &(g, _) in &pairs {
        starts[g as usize + 1] += 1;
    }
    for g in 0..grams.len() {
        starts[g + 1] += starts[g];
    }
    literal_lists.clear();
    literal_lists.resize(pairs.len(), 0);
    let mut next = starts.clone();
    for &(g, i) in &pairs {
        literal_lists[next[g as usize] as usize] = i;
        next[g as usize] += 1;
    }
    let literal_lists: &'k [u32] = literal_lists;
    // For the vocabulary estimate, literals that differ only in the Unicode spellings of `s`
    // and `k` (long s, Kelvin sign: case-insensitive regexes expand to all) count once.
    let mut pool: Vec<u8> = Vec::with_capacity(bytes);
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(keys.len());
    for k in keys {
        let a = pool.len();
        pool.extend(
            k.iter()
                .copied()
                .filter(|&b| b < 0x80 && b != b's' && b != b'k'),
        );
        spans.push((a, pool.len()));
    }
    let mut skeletons: HashMap<&[u8], u32, BuildHasherDefault<GramHasher>> =
        HashMap::with_capacity_and_hasher(keys.len(), BuildHasherDefault::default());
    let skeleton: Vec<u32> = spans
        .iter()
        .map(|&(a, b)| {
            let next = skeletons.len() as u32;
            *skeletons.entry(&pool[a..b]).or_insert(next)
        })
        .collect();
    let distinct = skeletons.len();
    // Per skeleton: the last gram that counted it.
    let mut counted = vec![u32::MAX; distinct];
    let cands = grams
        .iter()
        .enumerate()
        .map(|(g, &gram)| {
            let literals = &literal_lists[starts[g] as usize..starts[g + 1] as usize];
            let mut probability = model.gram_probability(gram, 0, distinct);
            // The vocabulary estimate counts only if it can exceed the others (it grows with
            // the number of literals): counting distinct skeletons is then worth it.
            if literals.len() >= 2
                && Model::vocabulary_probability(literals.len(), distinct) > probability
            {
                let mut df = 0;
                for &i in literals {
                    let sk = &mut counted[skeleton[i as usize] as usize];
                    if *sk != g as u32 {
                        *sk = g as u32;
                        df += 1;
                    }
                }
                if df >= 2 {
                    probability = probability.max(Model::vocabulary_probability(df, distinct));
                }
            }
            Candidate {
                gram,
                probability,
                literals,
            }
        })
        .collect();
    Some(cands)
}

/// The candidates by increasing cost for [`greedy_cover`], which takes only the first few (up
/// to [`max_patterns`] grams, and a few more whose cost had grown): the cheapest ones are
/// sorted, and the others heaped only if they are reached.
struct CostQueue {
    /// The cheapest, ascending, from `next` on.
    sorted: Vec<(u64, usize)>,
    next: usize,
    /// The others (none cheaper than the last of `sorted`).
    rest: Vec<(u64, usize)>,
    /// Those pushed back, and `rest` once `sorted` is taken.
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>>,
}

impl CostQueue {
    const SORTED: usize = 256;

    /// A queue of distinct entries.
    fn new(mut all: Vec<(u64, usize)>) -> CostQueue {
        let rest = if all.len() > CostQueue::SORTED {
            all.select_nth_unstable(CostQueue::SORTED);
            all.split_off(CostQueue::SORTED)
        } else {
            Vec::new()
        };
        all.sort_unstable();
        CostQueue {
            sorted: all,
            next: 0,
            rest,
            heap: std::collections::BinaryHeap::new(),
        }
    }

    /// The least entry.
    fn peek(&mut self) -> Option<(u64, usize)> {
        if self.next == self.sorted.len() && !self.rest.is_empty() {
            self.heap.extend(self.rest.drain(..).map(std::cmp::Reverse));
        }
        let heaped = self.heap.peek().map(|e| e.0);
        match (self.sorted.get(self.next).copied(), heaped) {
            (Some(s), Some(h)) => Some(s.min(h)),
            (s, h) => s.or(h),
        }
    }

    fn pop(&mut self) -> Option<(u64, usize)> {
        let least = self.peek()?;
        if self.sorted.get(self.next) == Some(&least) {
            self.next += 1;
        } else {
            self.heap.pop();
        }
        Some(least)
    }

    fn push(&mut self, e: (u64, usize)) {
        self.heap.push(std::cmp::Reverse(e));
    }
}

/// Grams chosen (indices of candidates), each with the literals filed under it.
type Cover = Vec<(usize, Vec<u32>)>;

/// A greedy weighted set cover of the `n` literals by candidate grams, in the order chosen,
/// with the literals each newly covers: each step takes the gram with the least estimated
/// cost per newly covered literal (its occurrences per byte times the work at each, plus
/// `gram_cost`), until all are covered or no gram fits in [`max_patterns`]. A gram's cost
/// per literal only grows as literals get covered, so a heap of costs computed earlier finds
/// the least one lazily.
fn greedy_cover(
    cands: &[Candidate<'_>],
    n: usize,
    gram_cost: f64,
    ascii_case_insensitive: bool,
) -> Cover {
    let cost = |p: f64, new: usize| (p * (Cost::HIT + comparisons(new)) + gram_cost) / new as f64;
    // Costs are positive: their bits order them.
    let mut heap = CostQueue::new(
        cands
            .iter()
            .enumerate()
            .map(|(ci, c)| (cost(c.probability, c.literals.len()).to_bits(), ci))
            .collect(),
    );
    let mut covered = vec![false; n];
    let mut left = n;
    let mut patterns = 0;
    let mut chosen = Vec::new();
    let max = max_patterns(ascii_case_insensitive);
    while left > 0 && patterns < max {
        let Some((old, ci)) = heap.pop() else {
            break;
        };
        let c = &cands[ci];
        let new = c.literals.iter().filter(|&&i| !covered[i as usize]).count();
        if new == 0 {
            continue;
        }
        let now = cost(c.probability, new).to_bits();
        if now > old && heap.peek().is_some_and(|next| now > next.0) {
            heap.push((now, ci));
            continue;
        }
        let variants = variant_count(c.gram, ascii_case_insensitive);
        if patterns + variants > max {
            continue;
        }
        patterns += variants;
        let mine: Vec<u32> = c
            .literals
            .iter()
            .copied()
            .filter(|&i| !covered[i as usize])
            .collect();
        for &i in &mine {
            covered[i as usize] = true;
        }
        left -= mine.len();
        chosen.push((ci, mine));
    }
    chosen
}

/// The grams of a gate for `keys` with the literals filed under each, and the estimated cost
/// of the gate: of the greedy covers for each of [`GRAM_COSTS`], the first grams of the one
/// that minimize the estimated cost of the whole, the literals left out searched on their
/// own (with `memmem` or Teddy: with a full automaton, the gate would only add work).
fn choose_grams(
    cands: &[Candidate<'_>],
    keys: &[Vec<u8>],
    ascii_case_insensitive: bool,
    model: &Model,
) -> Option<(f64, Cover)> {
    let mut best: Option<(f64, Cover)> = None;
    for gram_cost in GRAM_COSTS {
        let chosen = greedy_cover(cands, keys.len(), gram_cost, ascii_case_insensitive);
        let mut covered = vec![false; keys.len()];
        let mut left = keys.len();
        let mut patterns = 0;
        let mut checks = 0.0;
        for (n, (ci, mine)) in chosen.iter().enumerate() {
            let c = &cands[*ci];
            patterns += variant_count(c.gram, ascii_case_insensitive);
            checks += c.probability * (Cost::HIT + comparisons(mine.len()));
            for &i in mine {
                covered[i as usize] = true;
            }
            left -= mine.len();
            if left > Model::REST_MAX {
                // Too many literals left for the gate's own search: no gate this way.
                continue;
            }
            let scan = if patterns == 1 {
                Cost::SCAN_ONE
            } else {
                Cost::SCAN_PACKED
            };
            let rest: Vec<&Vec<u8>> = keys
                .iter()
                .zip(&covered)
                .filter(|(_, c)| !**c)
                .map(|(k, _)| k)
                .collect();
            let total = scan + checks + model.rest_cost(&rest, ascii_case_insensitive);
            if total.is_finite() && best.as_ref().is_none_or(|(t, _)| total < *t) {
                best = Some((total, chosen[..=n].to_vec()));
            }
        }
    }
    best
}

/// The literals `mine` of gram `g` (with the gram's offset in each) in the order they are
/// filed, each with its key, and where the keys are read from the gram: a group of more than
/// [`INDEX_MIN`] literals is indexed by the two bytes, at some distance from the gram, that
/// split it best (the literals without bytes there are compared at every occurrence).
/// `counts` is scratch space: empty, or a count per key, all 0.
fn index_group(
    keys: &[Vec<u8>],
    g: &[u8],
    mine: &[u32],
    counts: &mut Vec<u32>,
) -> (i32, Vec<(u32, usize, Option<u16>)>) {
    let mut mine: Vec<(u32, usize, Option<u16>)> = mine
        .iter()
        .map(|&i| {
            // (Grams are short: a plain search beats building a `memmem` searcher.)
            let offset = keys[i as usize]
                .windows(g.len())
                .position(|w| w == g)
                .expect("a literal contains its gram");
            (i, offset, None)
        })
        .collect();
    if mine.len() <= INDEX_MIN {
        return (0, mine);
    }
    let (mut lo, mut hi) = (0i64, 0i64);
    for &(i, offset, _) in &mine {
        lo = lo.min(-(offset as i64));
        hi = hi.max((keys[i as usize].len() - offset) as i64 - 2);
    }
    let mut best: Option<(usize, i32)> = None;
    counts.resize(1 << 16, 0);
    for at in lo.max(-32)..=hi.min(32) {
        let at = at as i32;
        let mut without = 0;
        let mut most = 0;
        for &(i, offset, _) in &mine {
            match member_key(&keys[i as usize], offset, at) {
                Some(key) => {
                    let c = &mut counts[usize::from(key)];
                    *c += 1;
                    most = most.max(*c);
                }
                None => without += 1,
            }
        }
        for &(i, offset, _) in &mine {
            if let Some(key) = member_key(&keys[i as usize], offset, at) {
                counts[usize::from(key)] = 0;
            }
        }
        let size = without + most as usize;
        if size < best.map_or(mine.len(), |b| b.0) {
            best = Some((size, at));
        }
    }
    let Some((_, key_at)) = best else {
        return (0, mine);
    };
    for m in &mut mine {
        m.2 = member_key(&keys[m.0 as usize], m.1, key_at);
    }
    // Those without a key first, then by key.
    mine.sort_by_key(|m| m.2.map_or(0, |k| 1 + u32::from(k)));
    (key_at, mine)
}

/// The searcher of the grams' spellings: `memmem` for one, else Teddy (if `teddy` and the
/// CPU has it), else an automaton.
fn gram_finder(variants: &[Vec<u8>], teddy: bool) -> Option<GramFinder> {
    if let [one] = variants {
        return Some(GramFinder::One(memmem::Finder::new(one).into_owned()));
    }
    if teddy
        && let Some(s) = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(variants)
            .build()
    {
        return Some(GramFinder::Packed(s));
    }
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(variants)
        .ok()
        .map(GramFinder::Automaton)
}

impl Gate {
    /// A gate for `keys` (folded), if one can be built, and its estimated cost (see
    /// [`choose_grams`]).
    fn build(
        keys: &[Vec<u8>],
        ascii_case_insensitive: bool,
        model: &Model,
        teddy: bool,
    ) -> Option<(Gate, f64)> {
        if keys.is_empty() || keys.iter().any(Vec::is_empty) {
            return None;
        }
        let mut literal_lists = Vec::new();
        let cands = candidates(keys, ascii_case_insensitive, model, &mut literal_lists)?;
        let (total, chosen) = choose_grams(&cands, keys, ascii_case_insensitive, model)?;
        let mut covered = vec![false; keys.len()];
        let mut pool = Vec::new();
        let mut grams = Vec::with_capacity(chosen.len());
        let mut members = Vec::new();
        let mut related = Vec::new();
        let mut counts = Vec::new();
        for (gi, (ci, mine)) in chosen.iter().enumerate() {
            let g = cands[*ci].gram;
            let a = pool.len() as u32;
            pool.extend_from_slice(g);
            let gram_bytes = (a, pool.len() as u32);
            let (key_at, filed) = index_group(keys, g, mine, &mut counts);
            let m0 = members.len() as u32;
            let unindexed = m0 + filed.iter().filter(|m| m.2.is_none()).count() as u32;
            for (i, offset, key) in filed {
                covered[i as usize] = true;
                let a = pool.len() as u32;
                pool.extend_from_slice(&keys[i as usize]);
                members.push(Member {
                    id: i,
                    offset: offset as u32,
                    bytes: (a, pool.len() as u32),
                    key: key.unwrap_or(0),
                });
            }
            let r0 = related.len() as u32;
            for (hi, (hc, _)) in chosen.iter().enumerate() {
                let h = cands[*hc].gram;
                if hi != gi && (h.starts_with(g) || g.starts_with(h)) {
                    related.push(hi as u32);
                }
            }
            grams.push(GramEntry {
                bytes: gram_bytes,
                members: (m0, members.len() as u32),
                unindexed,
                key_at,
                related: (r0, related.len() as u32),
            });
        }
        let rest_ids: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| !covered[i as usize])
            .collect();
        let rest = if rest_ids.is_empty() {
            None
        } else {
            let rest_keys: Vec<Vec<u8>> =
                rest_ids.iter().map(|&i| keys[i as usize].clone()).collect();
            Some(Plain::build_rest(
                &rest_keys,
                ascii_case_insensitive,
                model,
            )?)
        };
        let mut variants: Vec<Vec<u8>> = Vec::new();
        let mut gram_of_pattern = Vec::new();
        for (gi, (ci, _)) in chosen.iter().enumerate() {
            let g = cands[*ci].gram;
            let spellings = if ascii_case_insensitive {
                case_variants(g)
            } else {
                vec![g.to_vec()]
            };
            for v in spellings {
                variants.push(v);
                gram_of_pattern.push(gi as u32);
            }
        }
        let gate = Gate {
            finder: gram_finder(&variants, teddy)?,
            gram_of_pattern,
            grams,
            members,
            related,
            pool,
            rest,
            rest_ids,
            ascii_case_insensitive,
        };
        Some((gate, total))
    }

    #[inline]
    fn find_all(&self, text: &[u8], found: &mut impl FnMut(u32)) {
        if let Some(rest) = &self.rest {
            rest.find_all(text, &mut |i| found(self.rest_ids[i as usize]));
        }
        let mut at = 0;
        while at < text.len() {
            let Some((p, pattern)) = self.finder.find(text, at) else {
                break;
            };
            let gi = self.gram_of_pattern[pattern] as usize;
            self.check(gi, text, p, found);
            let (a, b) = self.grams[gi].related;
            for &hi in &self.related[a as usize..b as usize] {
                let (x, y) = self.grams[hi as usize].bytes;
                if self.eq(text.get(p..p + (y - x) as usize), x, y) {
                    self.check(hi as usize, text, p, found);
                }
            }
            at = p + 1;
        }
    }

    /// Is `part` (a slice of the text) the pool's bytes `x..y`?
    #[inline]
    fn eq(&self, part: Option<&[u8]>, x: u32, y: u32) -> bool {
        let want = &self.pool[x as usize..y as usize];
        match part {
            Some(part) if self.ascii_case_insensitive => part.eq_ignore_ascii_case(want),
            Some(part) => part == want,
            None => false,
        }
    }

    /// Reports the literals of gram `gi` that occur around its occurrence at `p`.
    #[inline]
    fn check(&self, gi: usize, text: &[u8], p: usize, found: &mut impl FnMut(u32)) {
        let e = &self.grams[gi];
        self.compare(e.members.0, e.unindexed, text, p, found);
        if e.unindexed == e.members.1 {
            return;
        }
        let Some(at) = usize::try_from(p as i64 + i64::from(e.key_at)).ok() else {
            return;
        };
        let Some(b) = text.get(at..at + 2) else {
            return;
        };
        let (mut b0, mut b1) = (b[0], b[1]);
        if self.ascii_case_insensitive {
            (b0, b1) = (b0.to_ascii_lowercase(), b1.to_ascii_lowercase());
        }
        let key = u16::from_le_bytes([b0, b1]);
        let keyed = &self.members[e.unindexed as usize..e.members.1 as usize];
        let from = keyed.partition_point(|m| m.key < key);
        let to = from + keyed[from..].partition_point(|m| m.key == key);
        self.compare(
            e.unindexed + from as u32,
            e.unindexed + to as u32,
            text,
            p,
            found,
        );
    }

    /// Reports the literals `members[a..b]` that occur around the gram occurrence at `p`.
    #[inline]
    fn compare(&self, a: u32, b: u32, text: &[u8], p: usize, found: &mut impl FnMut(u32)) {
        for m in &self.members[a as usize..b as usize] {
            let Some(s) = p.checked_sub(m.offset as usize) else {
                continue;
            };
            let len = (m.bytes.1 - m.bytes.0) as usize;
            if self.eq(text.get(s..s + len), m.bytes.0, m.bytes.1) {
                found(m.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Choice, Imp, LiteralSet};

    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The queue of the greedy cover takes its entries in the order a heap of all of them
    /// would, entries pushed back included.
    #[test]
    fn cost_queue_pops_like_a_heap() {
        use std::cmp::Reverse;
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        for round in 0..200 {
            let n = [0, 1, 5, 255, 256, 257, 1000][round % 7];
            let all: Vec<(u64, usize)> = (0..n).map(|i| (next() % 50, i)).collect();
            let mut queue = super::CostQueue::new(all.clone());
            let mut heap: std::collections::BinaryHeap<Reverse<(u64, usize)>> =
                all.into_iter().map(Reverse).collect();
            loop {
                assert_eq!(queue.peek(), heap.peek().map(|e| e.0));
                let (Some(got), Some(Reverse(want))) = (queue.pop(), heap.pop()) else {
                    assert_eq!(queue.pop(), None);
                    break;
                };
                assert_eq!(got, want);
                if next().is_multiple_of(3) {
                    let again = (got.0 + 1 + next() % 30, got.1);
                    queue.push(again);
                    heap.push(Reverse(again));
                }
            }
        }
    }

    /// The candidate grams are those of a plain enumeration: each distinct gram once, in the
    /// order of first occurrence, with its literals and its probability.
    #[test]
    fn candidates_match_a_plain_enumeration() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let alphabet = b"abcsk:.\\xA\xc5\xbf";
        let model = super::Model::new();
        for round in 0..300 {
            let ci = round % 2 == 0;
            let count = 1 + (next() % if round % 10 == 0 { 3000 } else { 60 }) as usize;
            let keys: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    (0..1 + next() % 12)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            let mut lists = Vec::new();
            let cands = super::candidates(&keys, ci, &model, &mut lists).expect("candidates");
            // By hand: grams in order of first occurrence, their literals.
            let mut order: Vec<Vec<u8>> = Vec::new();
            let mut literals: std::collections::HashMap<Vec<u8>, Vec<u32>> = Default::default();
            for (i, k) in keys.iter().enumerate() {
                let lens: Vec<usize> = match (k.len() <= 3, ci) {
                    (true, false) => vec![k.len()],
                    (true, true) => vec![2, k.len()],
                    (false, false) => vec![3, 4],
                    (false, true) => vec![2, 3, 4],
                };
                for n in lens {
                    for w in k.windows(n) {
                        if n == 2 && n < k.len() && w.iter().any(u8::is_ascii_alphabetic) {
                            continue;
                        }
                        let l = literals.entry(w.to_vec()).or_insert_with(|| {
                            order.push(w.to_vec());
                            Vec::new()
                        });
                        if l.last() != Some(&(i as u32)) {
                            l.push(i as u32);
                        }
                    }
                }
            }
            let skeleton = |k: &[u8]| -> Vec<u8> {
                k.iter()
                    .copied()
                    .filter(|&b| b < 0x80 && b != b's' && b != b'k')
                    .collect()
            };
            let distinct = keys
                .iter()
                .map(|k| skeleton(k))
                .collect::<std::collections::HashSet<_>>()
                .len();
            assert_eq!(cands.len(), order.len());
            for (c, g) in cands.iter().zip(&order) {
                assert_eq!(c.gram, &g[..]);
                assert_eq!(c.literals, &literals[g][..]);
                let df = literals[g]
                    .iter()
                    .map(|&i| skeleton(&keys[i as usize]))
                    .collect::<std::collections::HashSet<_>>()
                    .len();
                assert_eq!(
                    c.probability.to_bits(),
                    model.gram_probability(g, df, distinct).to_bits(),
                    "{g:?}"
                );
            }
        }
    }

    #[test]
    fn every_rarity_row_rates_every_class() {
        // `half_bits` indexes the rows by class: a short row or a stray byte would panic or
        // wrap there.
        for row in super::MODEL_RARITY {
            assert_eq!(row.len(), super::MODEL_CLASSES, "{row}");
            assert!(row.bytes().all(|c| c >= b'0'), "{row}");
        }
    }

    /// Every literal that occurs, by brute force.
    fn naive(list: &[&str], text: &str, ci: bool) -> Vec<u32> {
        let text = if ci {
            text.to_ascii_lowercase()
        } else {
            text.to_owned()
        };
        let mut out: Vec<u32> = (0..list.len() as u32)
            .filter(|&i| {
                let l = list[i as usize];
                text.contains(&*if ci {
                    l.to_ascii_lowercase()
                } else {
                    l.to_owned()
                })
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn found(set: &LiteralSet, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        set.find_all(text.as_bytes(), |id| out.push(id));
        out.sort_unstable();
        out.dedup();
        out
    }

    const ALL_WAYS: [Choice; 6] = [
        Choice::Cheapest,
        Choice::Gate,
        Choice::GateWithoutTeddy,
        Choice::Plain,
        Choice::Automaton,
        Choice::Windowed,
    ];

    fn owned(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn is_gate(set: &LiteralSet) -> bool {
        matches!(set.imp, Imp::Gate(_))
    }

    /// Every way of building the set agrees with brute force on each text.
    fn check_all_ways(list: &[&str], ci: bool, texts: &[&str]) {
        for choice in ALL_WAYS {
            let set = LiteralSet::build_choosing(&owned(list), ci, true, choice).expect("builds");
            for text in texts {
                assert_eq!(
                    found(&set, text),
                    naive(list, text, ci),
                    "{choice:?} {list:?} in {text:?}"
                );
            }
        }
    }

    /// PowerShell script names: every literal has a rare gram (`.ps1`), the texts are long
    /// and mostly free of them, so the gate is chosen; a literal in the middle of a long
    /// text is found only through a gram occurrence.
    #[test]
    fn gate_is_chosen_and_finds_literals_by_their_grams() {
        let names: Vec<String> = (0..120)
            .map(|i| format!("invoke-tool{i:03}-{}.ps1", ["x", "qq", "zed"][i % 3]))
            .collect();
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        let set = LiteralSet::build(&owned(&list), false, true).expect("builds");
        assert!(is_gate(&set), "a gate for script names");
        let filler = "hostname=consolehost engineversion=5.1 ".repeat(100);
        let texts = [
            format!("{filler}c:\\tmp\\invoke-tool077-zed.ps1 {filler}"),
            format!("{filler}invoke-tool078-x.ps1invoke-tool079-qq.ps1"),
            format!("invoke-tool000-x.ps1{filler}invoke-tool119-zed.ps"),
            filler.clone(),
            String::new(),
        ];
        for text in &texts {
            assert_eq!(found(&set, text), naive(&list, text, false), "{text:?}");
        }
        assert_eq!(found(&set, &texts[0]), vec![77]);
    }

    #[test]
    fn literals_shorter_than_grams_and_overlapping_grams() {
        let list = [
            "a", "zq", "xyz", "xyzw", "xyzwv", "yzw", "zwv", "qzq", "wvx", "vvvvvvvv", "yz",
        ];
        let texts = [
            "xyzwvxyz",
            "zqzq",
            "a",
            "vvvvvvvvv",
            "",
            "q",
            "wvxyzqa",
            "bbbbxyzwbbbb",
        ];
        check_all_ways(&list, false, &texts);
        check_all_ways(&list, true, &["XYZWvXyz", "ZqZQ", "A", "VvVvVvVvV", ""]);
    }

    #[test]
    fn non_ascii_literals() {
        let list = [
            "|c:\\windows\\system32\\kernelbase.dll+",
            "|c:\\windows\\ſystem32\\kernelbase.dll+",
            "|c:\\windowſ\\system32\\kernelbaſe.dll+",
            "déjà-vu",
            "日本語",
            "\u{212a}ey",
            "é",
        ];
        let texts = [
            "c:\\windows\\system32\\ntdll.dll+9d104|c:\\windows\\system32\\kernelbase.dll+2d",
            "x|c:\\windows\\ſystem32\\kernelbase.dll+|c:\\windowſ\\system32\\kernelbaſe.dll+",
            "déjà-vu déja-vu",
            "日本語日本",
            "\u{212a}ey key KEY",
            "cafe café",
            "",
        ];
        check_all_ways(&list, false, &texts);
        check_all_ways(&list, true, &texts);
    }

    #[test]
    fn empty_texts() {
        for choice in ALL_WAYS {
            for list in [vec!["abc"], vec!["abc", "x", "::"], vec!["abcd"; 1]] {
                let set =
                    LiteralSet::build_choosing(&owned(&list), false, true, choice).expect("builds");
                assert!(found(&set, "").is_empty(), "{choice:?} {list:?}");
            }
        }
        // An empty literal occurs in every text, the empty one too.
        let set = LiteralSet::build(&owned(&["", "ab"]), false, true).expect("builds");
        assert_eq!(found(&set, ""), vec![0]);
        assert_eq!(found(&set, "xab"), vec![0, 1]);
    }

    /// Keywords searched in raw JSON text, ignoring ASCII case: the gate searches every
    /// spelling of its grams.
    #[test]
    fn case_insensitive_gate() {
        let list = [
            "sekurlsa::",
            "kerberos::golden",
            "privilege::debug",
            "gentilkiwi.com",
            "mimidrv.sys",
            "\\\\mimilib.dll",
        ];
        let set = LiteralSet::build(&owned(&list), true, true).expect("builds");
        assert!(is_gate(&set), "a gate for keywords");
        let filler = "{\"SourceName\":\"Microsoft-Windows-Sysmon\",\"Level\":\"4\"} ".repeat(30);
        let texts = [
            format!("{filler}Sekurlsa::LogonPasswords {filler}"),
            format!("{filler}PRIVILEGE::DEBUG KERBEROS::golden"),
            format!("GentilKiwi.COM mimiDrv.SYS \\\\MimiLib.dll{filler}"),
            filler.clone(),
            "sekurlsa:".to_owned(),
        ];
        for text in &texts {
            assert_eq!(found(&set, text), naive(&list, text, true), "{text:?}");
        }
        check_all_ways(
            &list,
            true,
            &texts.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }

    /// A gram shared by many literals indexes them by two bytes near it; literals without
    /// those bytes are compared at every occurrence.
    #[test]
    fn large_groups_are_indexed() {
        let names: Vec<String> = (0..200)
            .map(|i| format!("{}{i}::{}", ["", "a", "bc", "def"][i % 4], i % 7))
            .collect();
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        let set =
            LiteralSet::build_choosing(&owned(&list), false, true, Choice::Gate).expect("builds");
        let Imp::Gate(gate) = &set.imp else {
            panic!("forced gate");
        };
        assert!(
            gate.grams.iter().any(|g| g.unindexed < g.members.1),
            "some gram indexed"
        );
        let texts = [
            "a1::1 bc2::2 def3::3 4::4 199::3",
            "x::y ::::: 0::0",
            "def199::3def",
            "17::3 17::2",
        ];
        for text in texts {
            assert_eq!(found(&set, text), naive(&list, text, false), "{text:?}");
        }
    }

    /// Random sets (small alphabets: overlaps, shared prefixes and grams, grams that are
    /// prefixes of others) and random texts made of pieces of the literals.
    #[test]
    fn random_sets_all_ways_agree_with_naive_search() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<char> = "abcAB:.ſé".chars().collect();
        let mut related = 0;
        for round in 0..300 {
            let ci = round % 3 == 0;
            let count = 1 + (next() % 40) as usize;
            let mut list: Vec<String> = (0..count)
                .map(|_| {
                    let n = 1 + next() % 9;
                    (0..n)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            list.sort();
            list.dedup();
            let refs: Vec<&str> = list.iter().map(String::as_str).collect();
            let texts: Vec<String> = (0..8)
                .map(|_| {
                    let mut t = String::new();
                    for _ in 0..next() % 12 {
                        if next() % 2 == 0 {
                            let l = &list[(next() % list.len() as u64) as usize];
                            let cut: Vec<char> = l.chars().collect();
                            let a = (next() % cut.len() as u64) as usize;
                            t.extend(&cut[a..]);
                        } else {
                            t.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                        }
                    }
                    t
                })
                .collect();
            for choice in ALL_WAYS {
                let set = LiteralSet::build_choosing(&list, ci, true, choice).expect("builds");
                if let Imp::Gate(g) = &set.imp
                    && !g.related.is_empty()
                {
                    related += 1;
                }
                for text in &texts {
                    assert_eq!(
                        found(&set, text),
                        naive(&refs, text, ci),
                        "{choice:?} ci={ci} {refs:?} in {text:?}"
                    );
                }
            }
        }
        assert!(
            related > 0,
            "grams that are prefixes of others were exercised"
        );
    }

    /// A SigmaHQ-sized set (hash values, command-line fragments of every length) is searched
    /// by its windows, its literals under 4 bytes on their own; found as brute force finds
    /// them, at a text's ends, overlapping, repeated, across a window's offset.
    #[test]
    fn large_sets_are_searched_by_windows() {
        let mut list: Vec<String> = (0..700u64)
            .map(|i| format!("md5={:032x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        list.extend((0..300).map(|i| format!(" -tool{i} ")));
        list.extend((0..40).map(|i| format!("/{i}")));
        list.extend(
            ["\\cmd.exe", ".dmp", "ab", "x", "rundll32.exe,", "ſystem32"].map(String::from),
        );
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let set = LiteralSet::build(&list, false, true).expect("builds");
        assert!(
            matches!(set.imp, Imp::Windowed(_)),
            "windows for a large set"
        );
        assert!(set.memory_usage() > 0);
        let texts = [
            list[0].clone(),
            format!("sha1=00,{},imphash=11", list[699]),
            format!("x{}{}", list[5], list[5]),
            "c:\\windows\\ſystem32\\rundll32.exe,main -tool7 -tool17 /3 .dmp".to_owned(),
            " -tool29".to_owned(),
            " -tool299 ab/39".to_owned(),
            list[3][..20].to_owned(),
            "md5=".to_owned(),
            "x".to_owned(),
            String::new(),
        ];
        for text in &texts {
            assert_eq!(found(&set, text), naive(&refs, text, false), "{text:?}");
        }
        assert_eq!(found(&set, &texts[1]), vec![699]);
        // Ignoring ASCII case, windows are not used (the set is searched another way).
        let set = LiteralSet::build(&list, true, true).expect("builds");
        assert!(!matches!(set.imp, Imp::Windowed(_)));
        assert_eq!(
            found(&set, &texts[3].to_uppercase()),
            naive(&refs, &texts[3].to_uppercase(), true)
        );
    }

    /// A set too large for Teddy (65 words and a few short literals) is not searched with an
    /// automaton, and finds what brute force finds.
    #[test]
    fn automaton_sized_sets_are_searched_by_windows() {
        let syl = ["ta", "re", "no", "si", "le", "an", "ti", "ro", "ma"];
        let mut list: Vec<String> = (0..65)
            .map(|i| {
                let (a, b, c) = (syl[i % 9], syl[(i / 9) % 9], syl[(i * 7 + 3) % 9]);
                format!("{a}{b}{c}{a}")
            })
            .collect();
        list.extend(["ab", "\\x"].map(String::from));
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let set = LiteralSet::build(&list, false, true).expect("builds");
        assert!(
            matches!(set.imp, Imp::Windowed(_) | Imp::Gate(_)),
            "windows or a gate (these words have rare grams), not an automaton"
        );
        // Words without a rare gram (no gate): windows, where an automaton was built before.
        let abc = ["a", "b", "c"];
        let mut words: Vec<String> = Vec::new();
        for w in abc {
            for x in abc {
                for y in abc {
                    for z in abc {
                        words.push(format!("{w}{x}{y}{z}"));
                    }
                }
            }
        }
        words.push("a".into());
        let word_refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let words_set = LiteralSet::build(&words, false, true).expect("builds");
        assert!(matches!(words_set.imp, Imp::Windowed(_)), "windows");
        for text in ["xxabcaxx", "cccc", "a", "bcbcbcb", "zz"] {
            assert_eq!(
                found(&words_set, text),
                naive(&word_refs, text, false),
                "{text:?}"
            );
        }
        for text in [
            format!("c:{}\\x", list[64]),
            "c:\\tatatata.exe ab".to_owned(),
            format!("{}{}", list[0], list[1]),
            list[7][1..].to_owned(),
        ] {
            assert_eq!(found(&set, &text), naive(&refs, &text, false), "{text:?}");
        }
        // 64 long literals (and the short ones) are still Teddy's.
        let set = LiteralSet::build(&list[..64], false, true).expect("builds");
        assert!(!matches!(set.imp, Imp::Windowed(_)));
        // Windows rather than an automaton: 64 literals of 4 bytes or more, case kept.
        let keys = |n: usize, len: usize| -> Vec<Vec<u8>> {
            (0..n).map(|i| format!("{i:0len$}").into_bytes()).collect()
        };
        assert!(super::windows_for_automaton(&keys(64, 4), false));
        assert!(!super::windows_for_automaton(&keys(64, 4), true));
        assert!(!super::windows_for_automaton(&keys(63, 4), false));
        let mut mixed = keys(63, 8);
        mixed.extend(keys(100, 3));
        assert!(!super::windows_for_automaton(&mixed, false));
    }

    /// Literals crowding under one window (each would be compared wherever it occurs) are not
    /// searched by windows, and are still all found.
    #[test]
    fn crowded_windows_fall_back() {
        let list: Vec<String> = (0..2000).map(|i| format!(" -zzqx -x{i} ")).collect();
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let set = LiteralSet::build(&list, false, false).expect("builds");
        assert!(!matches!(set.imp, Imp::Windowed(_)));
        let text = " -zzqx -x17  -zzqx -x1999 ".repeat(3);
        assert_eq!(found(&set, &text), naive(&refs, &text, false));
    }

    /// `rarest_window`'s caps are the model's probabilities in half bits.
    #[test]
    fn window_caps_are_the_common_probabilities() {
        assert_eq!(-2.0 * super::COMMON_PROBABILITY.log2(), 10.0);
        assert_eq!(-2.0 * (super::COMMON_PROBABILITY / 16.0).log2(), 18.0);
    }

    #[test]
    fn finds_overlapping_nested_and_repeated_literals() {
        let list = ["abc", "ab", "b", "bcd", "c", "a", "abcde", "zz", "cdx"];
        let owned: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        for dfa in [true, false] {
            let set = LiteralSet::build(&owned, false, dfa).expect("builds");
            for text in ["xabcd", "abcde", "", "zzz", "bcdx", "ab ab", "cdxabc", "a"] {
                assert_eq!(found(&set, text), naive(&list, text, false), "{text:?}");
            }
        }
    }

    #[test]
    fn ascii_case_insensitive_sets_match_naive_search() {
        let list = ["Foo", "oob", "BAR", "o"];
        let owned: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        let set = LiteralSet::build(&owned, true, true).expect("builds");
        for text in ["fOOBar", "xx", "FOOB", "bar"] {
            assert_eq!(found(&set, text), naive(&list, text, true), "{text:?}");
        }
    }

    #[test]
    fn random_texts_agree_with_naive_search() {
        // Small alphabet: many overlaps and shared prefixes.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let count = 1 + next() % 12;
            let mut word = |max: u64| -> String {
                let n = 1 + next() % max;
                (0..n)
                    .map(|_| (b'a' + (next() % 3) as u8) as char)
                    .collect()
            };
            let list: Vec<String> = (0..count).map(|_| word(4)).collect();
            let mut dedup = list.clone();
            dedup.sort();
            dedup.dedup();
            let text = word(40);
            let refs: Vec<&str> = dedup.iter().map(String::as_str).collect();
            let set = LiteralSet::build(&dedup, false, true).expect("builds");
            assert_eq!(
                found(&set, &text),
                naive(&refs, &text, false),
                "{refs:?} in {text:?}"
            );
        }
    }
}
