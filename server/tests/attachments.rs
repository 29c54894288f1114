//! A 20 MiB attachment goes up and comes down through the streaming routes; the server's
//! peak RSS (VmHWM) grows by far less than the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use meldpunt_tests::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::rng::{Rng, os_rng};

#[test]
fn twenty_mib_round_trip_in_bounded_memory() {
    let mut server = Server::start();
    server.create_org("acme");
    let a1 = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    let reporter = Reporter::new();
    reporter.create_case_ok(
        &server,
        "acme",
        std::slice::from_ref(&a1.id),
        b"{\"story\":\"zie bijlage\"}",
    );

    // 20 MiB of file bytes, with a marker that must not reach the database in plaintext.
    let mut file = vec![0u8; 20 << 20];
    os_rng().fill_bytes(&mut file);
    file[..32].copy_from_slice(b"BIJLAGE-PLAINTEXT-MARKER-7e1d0aa");
    let page = server.org_page("acme");
    let to = reporter.recipients(&page["advisors"], None);
    let sealed = seal(Purpose::Attachment, "acme", &to, &file);
    let id = b64(&[7u8; 16]);

    let before = server.proc_kib("VmHWM");
    let rss_before = server.proc_kib("VmRSS");
    let pow = server.pow();
    let r = reporter
        .auth(server.put(&format!("/api/v1/case/attachments/{id}")))
        .attachment(&pow, sealed.clone())
        .send()
        .unwrap();
    let v = expect(r, 201, None);
    assert_eq!(v["size"], sealed.len());
    let after_upload = server.proc_kib("VmHWM");

    // The reporter and the advisor download it (streamed) and it opens.
    let r = reporter
        .auth(server.get(&format!("/api/v1/case/attachments/{id}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        sealed.len().to_string().as_str()
    );
    let got = r.bytes().unwrap();
    assert!(got[..] == sealed[..]);
    let case_id = a1.inbox(&server)[0]["id"].as_str().unwrap().to_owned();
    let view = a1.case(&server, &case_id);
    assert_eq!(view["attachments"][0]["size"], sealed.len());
    let r = a1
        .auth(server.get(&format!("/api/v1/advisor/cases/{case_id}/attachments/{id}")))
        .send()
        .unwrap();
    let got = r.bytes().unwrap();
    let opened = envelope::open(&got, &a1.keyring.decryption_keys(), &[]).unwrap();
    assert!(opened.plaintext[..] == file[..]);
    let after = server.proc_kib("VmHWM");

    let growth = after.saturating_sub(before);
    println!(
        "server RSS: VmRSS before {rss_before} KiB; VmHWM before {before} KiB, after upload {after_upload} KiB, \
         after two downloads {after} KiB; peak growth {growth} KiB for a {} KiB envelope",
        sealed.len() / 1024
    );
    assert!(growth < 10 * 1024, "peak RSS grew by {growth} KiB");

    // Same id again: conflict; nothing half-written remains from failed uploads.
    let pow = server.pow();
    let r = reporter
        .auth(server.put(&format!("/api/v1/case/attachments/{id}")))
        .attachment(&pow, sealed[..4096].to_vec())
        .send()
        .unwrap();
    expect(r, 409, Some("conflict"));

    server.assert_no_leaks(&[b"BIJLAGE-PLAINTEXT-MARKER", b"zie bijlage"]);
}
