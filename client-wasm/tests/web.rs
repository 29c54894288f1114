//! The JS-facing API, run in WASM under Node by `wasm-bindgen-test-runner`
//! (`cargo xtask test`, or `cargo test -p meldpunt-client-wasm --target wasm32-unknown-unknown`
//! with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=target/tools/bin/wasm-bindgen-test-runner`).
//! The advisor's side is played with the crypto crate directly.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use base64ct::{Base64UrlUnpadded, Encoding};
use js_sys::{Array, Reflect};
use meldpunt_client_wasm::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::keys::IdentityKey;
use meldpunt_crypto::message::Message;
use meldpunt_crypto::pickup::PickupCode;
use meldpunt_crypto::pow::{Challenge, PowParams};
use meldpunt_crypto::recipient::{DecryptionKey, RecipientKey};
use meldpunt_crypto::rng::os_rng;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const NOW: i64 = 1_750_000_000;

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn unb64(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

struct TestAdvisor {
    id: String,
    identity: IdentityKey,
    key: DecryptionKey,
    bundle: String,
}

fn advisor(id: &str) -> TestAdvisor {
    let mut rng = os_rng();
    let identity = IdentityKey::generate(&mut rng);
    let key = DecryptionKey::generate(&mut rng);
    let bundle = identity
        .make_bundle(&key.recipient(), NOW - 60, NOW + 86_400)
        .unwrap();
    TestAdvisor {
        id: id.into(),
        identity,
        key,
        bundle: b64(&bundle.to_bytes()),
    }
}

fn add(set: &mut Advisors, a: &TestAdvisor, pins: &Pins) -> AdvisorCheck {
    set.add(
        &a.id,
        &b64(&a.identity.public().to_bytes()),
        vec![a.bundle.clone()],
        vec![],
        pins,
        NOW as f64,
    )
}

/// Adds `a` with the given bundles and revocations, unpinned, checked at `at`.
fn add_with(
    set: &mut Advisors,
    a: &TestAdvisor,
    bundles: Vec<String>,
    revocations: Vec<String>,
    at: f64,
) -> AdvisorCheck {
    set.add(
        &a.id,
        &b64(&a.identity.public().to_bytes()),
        bundles,
        revocations,
        &Pins::none(),
        at,
    )
}

/// Advisors "a" and "b", both in the set (no pins).
fn advisors_a_and_b() -> (TestAdvisor, TestAdvisor, Advisors) {
    let (a, b) = (advisor("a"), advisor("b"));
    let mut set = Advisors::new();
    add(&mut set, &a, &Pins::none());
    add(&mut set, &b, &Pins::none());
    (a, b, set)
}

/// Advisor "a" alone in the set, a fresh reporter, and the report `{"story":"x"}` it sealed to
/// that advisor.
fn one_advisor_report() -> (TestAdvisor, Advisors, Reporter, String) {
    let a = advisor("a");
    let mut set = Advisors::new();
    add(&mut set, &a, &Pins::none());
    let mut reporter = reporter_for(&make_pickup_code());
    let report = reporter
        .seal_report(
            "acme",
            &set,
            vec!["a".into()],
            r#"{"story":"x"}"#,
            NOW as f64,
        )
        .unwrap();
    (a, set, reporter, report)
}

/// `message` sealed for `acme` to `recipients`, in base64 as the server hands it out.
fn seal_to(purpose: Purpose, recipients: &[RecipientKey], message: &Message) -> String {
    b64(&envelope::seal(&mut os_rng(), purpose, "acme", recipients, message.as_bytes()).unwrap())
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn reporter_for(code: &str) -> Reporter {
    let mut seed = deriveSeed_(code);
    let r = Reporter::from_seed(&mut seed).unwrap();
    assert!(seed.iter().all(|b| *b == 0), "the seed is wiped");
    r
}

#[allow(non_snake_case)]
fn deriveSeed_(code: &str) -> Vec<u8> {
    derive_seed(code).map_err(|_| "derive").unwrap()
}

#[wasm_bindgen_test]
fn pickup_codes_are_checked_locally() {
    let code = make_pickup_code();
    assert_eq!(code.len(), 24);
    assert!(check_pickup_code(&code).ok);
    assert!(check_pickup_code(&code.to_lowercase().replace('-', " ")).ok);
    // One wrong character.
    let mut chars: Vec<char> = code.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let typo: String = chars.iter().collect();
    let c = check_pickup_code(&typo);
    assert!(!c.ok);
    assert_eq!(c.problem, "typo");
    assert_eq!(check_pickup_code("ABCD-EFGH").problem, "wrong_length");
    let bad = check_pickup_code("ABCD-EFGH-JKMN-PQRS-TVW!");
    assert_eq!((bad.problem.as_str(), bad.position), ("bad_character", 23));
}

#[wasm_bindgen_test]
fn pins_refuse_every_unpinned_advisor() {
    let (a, b) = (advisor("a"), advisor("b"));
    let pin_a = a.identity.public().fingerprint().to_pin();
    let pins = Pins::from_fragment(&format!("#pin={pin_a}")).unwrap();
    assert!(pins.active());
    assert_eq!(pins.count(), 1);
    assert_eq!(pins.to_fragment(), format!("#pin={pin_a}"));
    let mut set = Advisors::new();
    let ca = add(&mut set, &a, &pins);
    assert!(ca.usable && ca.trusted, "{}", ca.problem);
    assert_eq!(
        ca.fingerprint,
        a.identity.public().fingerprint().to_display()
    );
    let cb = add(&mut set, &b, &pins);
    assert!(!cb.usable && !cb.trusted);
    assert_eq!(cb.problem, "not_pinned");
    assert!(!cb.fingerprint.is_empty(), "shown for comparison");
    assert!(set.usable("a") && !set.usable("b"));

    assert!(!Pins::from_fragment("").unwrap().active());
    assert!(!Pins::from_fragment("#other=1").unwrap().active());
    assert!(Pins::from_fragment("#pin=NOTAFINGERPRINT").is_err());
    // A pin list that names nobody refuses everyone.
    let empty = Pins::from_fragment("#pin=").unwrap();
    assert_eq!(add(&mut Advisors::new(), &a, &empty).problem, "not_pinned");
}

#[wasm_bindgen_test]
fn bad_bundles_are_refused() {
    let a = advisor("a");
    let mut set = Advisors::new();
    let pins = Pins::none();
    // Expired.
    let c = add_with(&mut set, &a, vec![a.bundle.clone()], vec![], (NOW + 90_000) as f64);
    assert_eq!((c.usable, c.problem.as_str()), (false, "expired"));
    // Tampered signature.
    let mut raw = unb64(&a.bundle);
    raw[164] ^= 1;
    let c = add_with(&mut set, &a, vec![b64(&raw)], vec![], NOW as f64);
    assert_eq!(c.problem, "bad_signature");
    // Signed by someone else than the listed identity.
    let other = advisor("x");
    let c = add_with(&mut set, &a, vec![other.bundle.clone()], vec![], NOW as f64);
    assert_eq!(c.problem, "wrong_identity");
    // Revoked.
    let rev = a.identity.make_revocation(a.key.key_id(), NOW - 1);
    let revocations = vec![b64(&rev.to_bytes())];
    let c = add_with(&mut set, &a, vec![a.bundle.clone()], revocations, NOW as f64);
    assert_eq!(c.problem, "revoked");
    assert!(!set.usable("a"));
    // No bundle at all.
    assert_eq!(
        set.add(
            "z",
            &b64(&a.identity.public().to_bytes()),
            vec![],
            vec![],
            &pins,
            NOW as f64
        )
        .problem,
        "no_key"
    );
    assert_eq!(
        set.add("z", "!!", vec![], vec![], &pins, NOW as f64)
            .problem,
        "bad_identity"
    );
}

#[wasm_bindgen_test]
fn report_reply_follow_up_round_trip() {
    let (a, b, set) = advisors_a_and_b();
    let code = make_pickup_code();
    let mut reporter = reporter_for(&code);
    assert_eq!(reporter.case_token().len(), 43);
    let body = r#"{"story":"Mijn leidinggevende..."}"#;
    let env = reporter
        .seal_report("acme", &set, vec!["a".into()], body, NOW as f64)
        .unwrap();

    // Advisor a opens it; b cannot (not chosen).
    let sealed = unb64(&env);
    let opened = envelope::open(&sealed, &[&a.key], &[]).unwrap();
    assert_eq!(
        (opened.purpose, opened.org.as_str()),
        (Purpose::Report, "acme")
    );
    assert!(envelope::open(&sealed, &[&b.key], &[]).is_err());
    let report = Message::from_bytes(&opened.plaintext).unwrap();
    assert_eq!(
        body_advisors(report.body()),
        vec![b64(&a.identity.public().to_bytes())]
    );

    // The same code gives the same keys.
    let again = reporter_for(&code);
    assert_eq!(again.token_hash(), reporter.token_hash());

    // a replies, sealed to the reporter's reply key.
    let reply_body = r#"{"text":"Dank voor je melding."}"#;
    let reply =
        Message::sign_reply(&a.identity, &report.hash(), NOW + 10, reply_body.as_bytes()).unwrap();
    let reply_env = envelope::seal(
        &mut os_rng(),
        Purpose::Message,
        "acme",
        &[report.reply_key().unwrap(), a.key.recipient()],
        reply.as_bytes(),
    )
    .unwrap();

    let view = again_open(&mut reporter, vec![env.clone(), b64(&reply_env)], &set);
    assert_eq!(
        get(&view, "ok"),
        JsValue::TRUE,
        "{:?}",
        get(&view, "problem")
    );
    let msgs: Array = get(&view, "messages").into();
    assert_eq!(msgs.length(), 2);
    let m1 = msgs.get(1);
    assert_eq!(get(&m1, "kind").as_string().unwrap(), "reply");
    assert_eq!(get(&m1, "body").as_string().unwrap(), reply_body);
    assert_eq!(get(&m1, "authorId").as_string().unwrap(), "a");
    assert_eq!(get(&m1, "signatureOk"), JsValue::TRUE);
    assert_eq!(get(&msgs.get(0), "mine"), JsValue::TRUE);

    // A follow-up answers the reply, sealed to the members (a) and the reporter, not to b.
    let fu = reporter
        .seal_follow_up(r#"{"text":"Bedankt"}"#, (NOW + 20) as f64)
        .unwrap();
    let fu = get(&fu, "envelope").as_string().unwrap();
    assert!(envelope::open(&unb64(&fu), &[&b.key], &[]).is_err());
    let fu_opened = envelope::open(&unb64(&fu), &[&a.key], &[]).unwrap();
    assert_eq!(fu_opened.purpose, Purpose::Message);
    let fu_msg = Message::from_bytes(&fu_opened.plaintext).unwrap();
    assert_eq!(fu_msg.parent(), reply.hash());
}

fn again_open(r: &mut Reporter, envs: Vec<String>, set: &Advisors) -> JsValue {
    r.open_case("acme", envs, set)
}

#[wasm_bindgen_test]
fn forged_and_missing_messages_are_flagged() {
    let (a, set, mut reporter, env) = one_advisor_report();
    let report = Message::from_bytes(
        &envelope::open(&unb64(&env), &[&a.key], &[])
            .unwrap()
            .plaintext,
    )
    .unwrap();
    let reply_key = report.reply_key().unwrap();
    let seal = |m: &Message| seal_to(Purpose::Message, &[reply_key], m);

    // A reply by someone who is not an advisor of the case.
    let stranger = IdentityKey::generate(&mut os_rng());
    let forged = Message::sign_reply(&stranger, &report.hash(), NOW, b"{}").unwrap();
    let view = reporter.open_case("acme", vec![env.clone(), seal(&forged)], &set);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "unknown_author");
    assert_eq!(get(&view, "problemIndex").as_f64().unwrap(), 1.0);

    // A reply whose parent the reporter never saw: a gap.
    let r1 = Message::sign_reply(&a.identity, &report.hash(), NOW, b"{\"text\":\"1\"}").unwrap();
    let r2 = Message::sign_reply(&a.identity, &r1.hash(), NOW, b"{\"text\":\"2\"}").unwrap();
    let view = reporter.open_case("acme", vec![env.clone(), seal(&r2)], &set);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "gap");
    let msgs: Array = get(&view, "messages").into();
    assert_eq!(get(&msgs.get(1), "parentKnown"), JsValue::FALSE);

    // An envelope that is not for the reporter.
    let view = reporter.open_case("acme", vec![env.clone(), b64(b"garbage")], &set);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "unreadable");

    // The report the reporter sent is missing from what the server returns.
    let other = reporter_for(&make_pickup_code());
    let _ = other;
    let view = reporter.open_case("acme", vec![], &set);
    assert_eq!(get(&view, "ok"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn attachments_stream_and_open() {
    let (a, set, mut reporter, report) = one_advisor_report();
    assert!(
        reporter.attachment_decryptor().is_err(),
        "not before the case is opened"
    );
    reporter.open_case("acme", vec![report], &set);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut enc = reporter
        .attachment_encryptor("acme", &set, vec!["a".into()])
        .unwrap();
    let mut out = enc.header();
    assert!(enc.header().is_empty());
    for piece in data.chunks(50_000) {
        out.extend(enc.push(piece).unwrap());
    }
    out.extend(enc.finish().unwrap());
    assert!(enc.finish().is_err());

    let opened = envelope::open(&out, &[&a.key], &[]).unwrap();
    assert_eq!(opened.purpose, Purpose::Attachment);
    assert_eq!(opened.plaintext.as_slice(), data.as_slice());

    // The reporter can read it back, in pieces of any size.
    let mut dec = reporter.attachment_decryptor().unwrap();
    let mut plain = Vec::new();
    for piece in out.chunks(777) {
        plain.extend(dec.push(piece).unwrap());
    }
    plain.extend(dec.finish().unwrap());
    assert_eq!(plain, data);

    let mut bad = out.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut dec = reporter.attachment_decryptor().unwrap();
    let r = dec.push(&bad).and_then(|_| dec.finish());
    assert!(r.is_err());
}

#[wasm_bindgen_test]
fn metadata_is_stripped_through_the_binding() {
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0C];
    jpeg.extend_from_slice(b"Exif\0\0GPS!");
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    let r = strip_metadata(&jpeg).map_err(|_| "strip").unwrap();
    assert_eq!(get(&r, "supported"), JsValue::TRUE);
    assert_eq!(get(&r, "removed").as_f64().unwrap(), 1.0);
    let bytes = js_sys::Uint8Array::from(get(&r, "bytes")).to_vec();
    assert_eq!(bytes, vec![0xFF, 0xD8, 0xFF, 0xD9]);
    let r = strip_metadata(b"plain text").map_err(|_| "strip").unwrap();
    assert_eq!(get(&r, "supported"), JsValue::FALSE);
    assert!(strip_metadata(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF]).is_err());
    assert_eq!(make_id().len(), 22);
}

#[wasm_bindgen_test]
fn proof_of_work_is_solved_with_progress() {
    let key = [7u8; 32];
    let params = PowParams {
        m_kib: 64,
        t: 1,
        difficulty: 3,
    };
    let challenge = Challenge::make(&mut os_rng(), &key, NOW + 600, params);
    let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let seen = calls.clone();
    let progress = wasm_bindgen::closure::Closure::<dyn FnMut(f64)>::new(move |_n: f64| {
        seen.set(seen.get() + 1)
    });
    let f: &js_sys::Function = progress.as_ref().unchecked_ref_fn();
    let nonce = solve_pow(&b64(challenge.as_bytes()), f)
        .map_err(|_| "solve")
        .unwrap();
    assert!(meldpunt_crypto::pow::verify_solution(
        challenge.as_bytes(),
        nonce as u64
    ));
    assert_eq!(calls.get(), nonce as u32 + 1);
    assert!(solve_pow("AAAA", f).is_err());
}

trait UncheckedFn {
    fn unchecked_ref_fn(&self) -> &js_sys::Function;
}

impl UncheckedFn for JsValue {
    fn unchecked_ref_fn(&self) -> &js_sys::Function {
        wasm_bindgen::JsCast::unchecked_ref(self)
    }
}

#[wasm_bindgen_test]
fn pickup_code_parse_matches_the_crate() {
    let code = make_pickup_code();
    assert!(PickupCode::parse(&code).is_ok());
}

fn body_advisors(report_body: &[u8]) -> Vec<String> {
    let v = js_sys::JSON::parse(std::str::from_utf8(report_body).unwrap()).unwrap();
    let list: Array = get(&v, "advisors").into();
    list.iter().map(|s| s.as_string().unwrap()).collect()
}

/// §6, §10: the report names the advisors the reporter chose; the mailbox trusts replies only
/// from members, whatever the server lists for the case.
#[wasm_bindgen_test]
fn replies_are_trusted_only_from_advisors_the_report_names() {
    let (a, b, set) = advisors_a_and_b();
    let code = make_pickup_code();
    let mut reporter = reporter_for(&code);
    // The page's own `advisors` value is replaced by the chosen identities.
    let env = reporter
        .seal_report(
            "acme",
            &set,
            vec!["a".into()],
            r#"{"story":"x","advisors":["forged"]}"#,
            NOW as f64,
        )
        .unwrap();
    let report = Message::from_bytes(
        &envelope::open(&unb64(&env), &[&a.key], &[])
            .unwrap()
            .plaintext,
    )
    .unwrap();
    assert_eq!(
        body_advisors(report.body()),
        vec![b64(&a.identity.public().to_bytes())]
    );
    assert!(
        reporter
            .seal_report("acme", &set, vec!["a".into()], "[1]", NOW as f64)
            .is_err(),
        "body must be an object"
    );

    // The server lists b for the case too (it was never chosen), and b replies.
    let reply_key = report.reply_key().unwrap();
    let seal = |m: &Message| seal_to(Purpose::Message, &[reply_key], m);
    let by_b = Message::sign_reply(
        &b.identity,
        &report.hash(),
        NOW + 5,
        br#"{"text":"Ik ben ook vertrouwenspersoon"}"#,
    )
    .unwrap();
    // A fresh mailbox (same code): what it trusts comes from the report, not from memory.
    let mut mailbox = reporter_for(&code);
    let view = mailbox.open_case("acme", vec![env.clone(), seal(&by_b)], &set);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "unknown_author");
    assert_eq!(get(&view, "problemIndex").as_f64().unwrap(), 1.0);
    let msgs: Array = get(&view, "messages").into();
    let m = msgs.get(1);
    assert_eq!(
        get(&m, "signatureOk"),
        JsValue::TRUE,
        "a valid signature, by the wrong person"
    );
    assert_eq!(get(&m, "trusted"), JsValue::FALSE);
    assert_eq!(
        get(&m, "authorId").as_string().unwrap(),
        "",
        "no name from the server's list"
    );
    assert_eq!(
        get(&m, "author").as_string().unwrap(),
        b.identity.public().fingerprint().to_display()
    );
    assert_eq!(
        get(&msgs.get(0), "trusted"),
        JsValue::TRUE,
        "the report is the reporter's own"
    );
    // b is named as listed but no member; follow-ups go to the members (a) only.
    let warnings: Array = get(&view, "warnings").into();
    assert_eq!(warnings.length(), 1);
    assert_eq!(
        get(&warnings.get(0), "code").as_string().unwrap(),
        "listed_not_member"
    );
    assert_eq!(get(&warnings.get(0), "id").as_string().unwrap(), "b");
    let fu = mailbox
        .seal_follow_up(r#"{"text":"x"}"#, NOW as f64)
        .unwrap();
    let fu = unb64(&get(&fu, "envelope").as_string().unwrap());
    assert!(envelope::open(&fu, &[&a.key], &[]).is_ok());
    assert!(envelope::open(&fu, &[&b.key], &[]).is_err());

    // A reply by a, the chosen advisor, is trusted.
    let mut mailbox = reporter_for(&code);
    let by_a = Message::sign_reply(&a.identity, &report.hash(), NOW + 5, b"{}").unwrap();
    let view = mailbox.open_case("acme", vec![env.clone(), seal(&by_a)], &set);
    assert_eq!(
        get(&view, "ok"),
        JsValue::TRUE,
        "{:?}",
        get(&view, "problem")
    );
    let m = Array::from(&get(&view, "messages")).get(1);
    assert_eq!(get(&m, "trusted"), JsValue::TRUE);
    assert_eq!(get(&m, "authorId").as_string().unwrap(), "a");

    // b pinned by the link: still not a member of the case (only the report makes members).
    let pins = Pins::from_fragment(&format!(
        "#pin={},{}",
        a.identity.public().fingerprint().to_pin(),
        b.identity.public().fingerprint().to_pin()
    ))
    .unwrap();
    let mut pinned = Advisors::new();
    add(&mut pinned, &a, &pins);
    add(&mut pinned, &b, &pins);
    let mut mailbox = reporter_for(&code);
    let view = mailbox.open_case("acme", vec![env.clone(), seal(&by_b)], &pinned);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "unknown_author");
    assert_eq!(
        get(&Array::from(&get(&view, "messages")).get(1), "authorId")
            .as_string()
            .unwrap(),
        ""
    );
}

/// A report without the `advisors` field makes nobody a member.
#[wasm_bindgen_test]
fn a_report_without_advisors_trusts_no_listed_advisor() {
    let a = advisor("a");
    let mut set = Advisors::new();
    add(&mut set, &a, &Pins::none());
    let code = make_pickup_code();
    let seed = PickupCode::parse(&code).unwrap().derive_seed().unwrap();
    let keys = meldpunt_crypto::pickup::ReporterKeys::from_seed(&seed);
    let reply_key = keys.reply_key().recipient();
    let report =
        Message::sign_report(keys.signing_key(), &reply_key, NOW, br#"{"story":"old"}"#).unwrap();
    let env = seal_to(Purpose::Report, &[reply_key, a.key.recipient()], &report);
    let reply = Message::sign_reply(&a.identity, &report.hash(), NOW, b"{}").unwrap();
    let reply_env = seal_to(Purpose::Message, &[reply_key], &reply);
    let mut mailbox = reporter_for(&code);
    let view = mailbox.open_case("acme", vec![env, reply_env], &set);
    assert_eq!(get(&view, "problem").as_string().unwrap(), "unknown_author");
    assert_eq!(Array::from(&get(&view, "members")).length(), 0);
}
