//! GCP Cloud KMS and Azure Key Vault keys. There is no Cloud KMS or Key Vault on this machine,
//! so these tests run ksec against a local mock of the documented REST endpoints
//! (`common::cloud`, which refuses requests the documentation would refuse), never against
//! the real services; sops cannot be run against it (sops 3.11 speaks gRPC to Cloud KMS and
//! reaches Key Vault over https only).
//!
//! Covered: each tool's entry written as sops writes it; every credential source ksec reads
//! for each service; mixing with age in key groups with Shamir; rotate, updatekeys and the
//! variables that name keys; and what the user is told when a service refuses (access denied,
//! an expired token, a disabled or deleted key), cannot be reached, is silent, or when no
//! credentials are found.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{
    CloudMock, Dir, TestCommand, VECTOR_RECIPIENT as AGE1, VECTOR_RECIPIENT_2 as AGE2, decrypts_to, refused_within,
};

/// A plaintext both tools print back byte for byte.
const PLAIN: &str = "password: hunter2\nport: 5432\n";

/// sops's exit code when no key can decrypt the data key.
const NO_KEY: i32 = 128;

/// A scratch directory and the mock of this test binary.
struct Lab {
    dir: Dir,
    mock: &'static CloudMock,
}

fn lab() -> Lab {
    let dir = Dir::new();
    dir.write("plain.yaml", PLAIN);
    // The Azure CLI of this machine, if any, is never asked: a stand-in that is not logged in.
    dir.script(
        "az",
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n",
    );
    Lab {
        dir,
        mock: common::cloud(),
    }
}

impl Lab {
    /// ksec with the mock as Cloud KMS and as Microsoft's authority, and no credentials: the
    /// GCE metadata server knows no service account and IMDS is a closed loopback port, so
    /// nothing beyond this machine is ever asked.
    fn ksec(&self) -> TestCommand {
        let closed = format!("127.0.0.1:{}", common::free_port());
        let mut cmd = self.dir.ksec();
        cmd.env("SOPS_GCP_KMS_ENDPOINT", &self.mock.addr)
            .env("GCE_METADATA_HOST", metadata_without_account())
            .env("AZURE_AUTHORITY_HOST", &self.mock.addr)
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", format!("http://{closed}"))
            .path_first(self.dir.side("bin"));
        cmd
    }

    /// ksec with a Google access token of `principal` in `GOOGLE_OAUTH_ACCESS_TOKEN`.
    fn ksec_google(&self, principal: &str) -> TestCommand {
        let mut cmd = self.ksec();
        cmd.env("GOOGLE_OAUTH_ACCESS_TOKEN", self.mock.google_token(principal));
        cmd
    }

    /// ksec as an Entra application with a client secret (registered with the mock now).
    fn ksec_azure(&self, tenant: &str, client: &str) -> TestCommand {
        let secret = format!("secret-of-{client}");
        self.mock.azure_secret(tenant, client, &secret);
        let mut cmd = self.ksec();
        cmd.env("AZURE_TENANT_ID", tenant)
            .env("AZURE_CLIENT_ID", client)
            .env("AZURE_CLIENT_SECRET", secret);
        cmd
    }

    /// A Cloud KMS key of this test that `allowed` may use; its resource ID.
    fn gcp_key(&self, test: &str, allowed: &[&str]) -> String {
        let id = format!("projects/{test}/locations/global/keyRings/ring/cryptoKeys/key");
        self.mock.gcp_key(&id, allowed);
        id
    }

    /// A Key Vault key of this test that `allowed` may use; its URL with its version.
    fn azure_key(&self, name: &str, allowed: &[&str]) -> String {
        let version = self.mock.azure_key(name, allowed);
        self.mock.azure_key_url(name, &version)
    }

    fn write_config(&self, text: &str) {
        self.dir.write(".sops.yaml", text);
    }
}

/// `host:port` of a GCE metadata server with no service account (it answers 404, as on a
/// machine without one).
fn metadata_without_account() -> &'static str {
    static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let (addr, _) = common::fixed_answer_server(404, r#"{"error":"Not Found"}"#);
        addr.trim_start_matches("http://").to_string()
    })
}

/// The value of the first `field: ` line under `section` in a YAML `sops:` block.
fn field_of<'a>(text: &'a str, section: &str, field: &str) -> &'a str {
    let start = text
        .find(&format!("    {section}:\n"))
        .unwrap_or_else(|| panic!("no {section} in\n{text}"));
    text[start..]
        .lines()
        .find_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix(&format!("{field}: "))
        })
        .unwrap_or_else(|| panic!("no {field} under {section} in\n{text}"))
}

/// The RSA test key of `testdata/cloud` (made for these tests, never a real credential).
fn test_key_pem() -> String {
    std::fs::read_to_string(common::testdata("cloud/service-key.pem")).expect("the test key")
}

fn test_public_key() -> rsa::RsaPublicKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(&test_key_pem())
        .expect("a PKCS#8 key")
        .to_public_key()
}

// ---------------------------------------------------------------------------------------------
// GCP Cloud KMS: the entry, and every credential source
// ---------------------------------------------------------------------------------------------

#[test]
fn a_gcp_key_wraps_the_data_key_into_an_entry_as_sops_writes_it_and_unwraps_it() {
    let lab = lab();
    let id = lab.gcp_key("entry", &["alice@entry"]);
    let out = lab
        .ksec_google("alice@entry")
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains(&format!(
            "sops:\n    gcp_kms:\n        - resource_id: {id}\n          created_at: "
        )),
        "{out}"
    );
    // sops writes Cloud KMS's ciphertext in standard base64.
    let enc = field_of(&out, "gcp_kms", "enc");
    let ciphertext = STANDARD.decode(enc).unwrap_or_else(|e| panic!("{enc}: {e}"));
    assert!(ciphertext.starts_with(format!("MOCK[{id}]").as_bytes()));
    lab.dir.write("f.enc.yaml", &out);
    decrypts_to(
        lab.ksec_google("alice@entry").args(["decrypt", "f.enc.yaml"]).run(),
        PLAIN,
    );
    assert_eq!(
        lab.mock.requests_with(&format!("/v1/{id}:")),
        [format!("POST /v1/{id}:encrypt"), format!("POST /v1/{id}:decrypt")]
    );
    // A key ID sops would refuse is refused before anything is asked.
    lab.ksec_google("alice@entry")
        .args(["encrypt", "--gcp-kms", "projects/entry/cryptoKeys/key", "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has("no valid resource ID found in \"projects/entry/cryptoKeys/key\"");
}

/// An `authorized_user` file as `gcloud auth application-default login` writes it, its token
/// endpoint the mock's.
fn user_credentials(lab: &Lab, name: &str) -> String {
    let refresh = format!("1//refresh-{name}");
    lab.mock.google_user(
        &format!("{name}.apps.googleusercontent.com"),
        "client-secret",
        &refresh,
        name,
    );
    serde_json::json!({
        "client_id": format!("{name}.apps.googleusercontent.com"),
        "client_secret": "client-secret",
        "refresh_token": refresh,
        "type": "authorized_user",
        "token_uri": format!("{}/google/token", lab.mock.addr),
    })
    .to_string()
}

#[test]
fn gcloud_user_credentials_are_found_where_google_s_libraries_and_sops_look() {
    let lab = lab();
    let id = lab.gcp_key("user", &["user-adc", "user-gcloud", "user-inline"]);
    let adc = lab.dir.write("adc.json", user_credentials(&lab, "user-adc"));
    let out = lab
        .ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &adc)
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", out.stdout);
    decrypts_to(
        lab.ksec()
            .env("GOOGLE_APPLICATION_CREDENTIALS", &adc)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // gcloud's own file, under HOME.
    let gcloud = lab.dir.home().join(".config/gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    std::fs::write(
        gcloud.join("application_default_credentials.json"),
        user_credentials(&lab, "user-gcloud"),
    )
    .unwrap();
    decrypts_to(lab.ksec().args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    // sops's GOOGLE_CREDENTIALS, holding the JSON itself, comes first.
    decrypts_to(
        lab.ksec()
            .env("GOOGLE_CREDENTIALS", user_credentials(&lab, "user-inline"))
            .env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent.json")
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // A revoked refresh token: the report names the credentials, never the secrets.
    let revoked = serde_json::json!({
        "client_id": "user-adc.apps.googleusercontent.com",
        "client_secret": "client-secret",
        "refresh_token": "1//revoked",
        "type": "authorized_user",
        "token_uri": format!("{}/google/token", lab.mock.addr),
    });
    let revoked = lab.dir.write("revoked.json", revoked.to_string());
    lab.ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &revoked)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("invalid or expired credentials: getting an access token")
        .stderr_has("answered 400: invalid_grant: Token has been expired or revoked.")
        .stderr_has(format!(
            "user credentials (OAuth client user-adc.apps.googleusercontent.com) from GOOGLE_APPLICATION_CREDENTIALS={}",
            revoked.display()
        ))
        .stderr_has("ksec: hint: Google refused the credentials")
        .stderr_lacks("1//revoked")
        .stderr_lacks("client-secret");
}

#[test]
fn a_service_account_key_signs_the_jwt_it_exchanges_for_a_token() {
    let lab = lab();
    let email = "ci@sa-test.iam.gserviceaccount.com";
    lab.mock.service_account(email, test_public_key());
    let id = lab.gcp_key("service-account", &[email]);
    let key_file = serde_json::json!({
        "type": "service_account",
        "project_id": "sa-test",
        "private_key_id": "0123456789abcdef",
        "private_key": test_key_pem(),
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": format!("{}/google/token", lab.mock.addr),
    });
    let key_file = lab.dir.write("sa.json", key_file.to_string());
    let enc = lab
        .ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key_file)
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(
        lab.ksec()
            .env("GOOGLE_APPLICATION_CREDENTIALS", &key_file)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // A key the account does not hold: the JWT's signature is refused.
    let other = lab.dir.write(
        "other.json",
        std::fs::read_to_string(&key_file)
            .unwrap()
            .replace(email, "other@sa-test.iam.gserviceaccount.com"),
    );
    lab.ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &other)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("invalid or expired credentials: getting an access token")
        .stderr_has("invalid_grant: Invalid JWT Signature.")
        .stderr_has("service account other@sa-test.iam.gserviceaccount.com (key from GOOGLE_APPLICATION_CREDENTIALS=")
        .stderr_lacks("PRIVATE KEY");
}

#[test]
fn workload_identity_federation_exchanges_a_file_token_and_may_impersonate_a_service_account() {
    let lab = lab();
    let audience = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/gh";
    let subject = "eyJhbGciOiJSUzI1NiJ9.subject.token";
    lab.mock.federation(audience, subject, "principal://ci/repo");
    let deployer = "deployer@wif-test.iam.gserviceaccount.com";
    lab.mock.allow_impersonation(deployer, "principal://ci/repo");
    let id = lab.gcp_key("wif", &["principal://ci/repo", deployer]);
    let token_file = lab.dir.write("oidc-token", format!("{subject}\n"));
    let direct = serde_json::json!({
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": format!("{}/sts/v1/token", lab.mock.addr),
        "credential_source": {"file": token_file},
    });
    let direct = lab.dir.write("wif.json", direct.to_string());
    let enc = lab
        .ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &direct)
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    // The token in a JSON file's field, exchanged and then traded for the service account's.
    let json_token = lab.dir.write("oidc.json", format!(r#"{{"id_token": "{subject}"}}"#));
    let impersonating = serde_json::json!({
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": format!("{}/sts/v1/token", lab.mock.addr),
        "service_account_impersonation_url": format!(
            "{}/iam/v1/projects/-/serviceAccounts/{deployer}:generateAccessToken", lab.mock.addr
        ),
        "credential_source": {
            "file": json_token,
            "format": {"type": "json", "subject_token_field_name": "id_token"},
        },
    });
    let impersonating = lab.dir.write("wif-sa.json", impersonating.to_string());
    decrypts_to(
        lab.ksec()
            .env("GOOGLE_APPLICATION_CREDENTIALS", &impersonating)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    assert_eq!(
        lab.mock.requests_with(&format!("{deployer}:generateAccessToken")).len(),
        1
    );
    // A subject token the pool does not trust.
    std::fs::write(&token_file, "forged").unwrap();
    lab.ksec()
        .env("GOOGLE_APPLICATION_CREDENTIALS", &direct)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("invalid or expired credentials: getting an access token")
        .stderr_has(format!(
            "workload identity federation ({audience}, subject token from file "
        ))
        .stderr_lacks("forged");
}

#[test]
fn the_gce_metadata_server_gives_its_default_service_account_s_token() {
    let lab = lab();
    lab.mock.gce_account("default@gce-test.iam.gserviceaccount.com");
    let id = lab.gcp_key("gce", &["default@gce-test.iam.gserviceaccount.com"]);
    let enc = lab
        .ksec()
        .env("GCE_METADATA_HOST", &lab.mock.host)
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(
        lab.ksec()
            .env("GCE_METADATA_HOST", &lab.mock.host)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // The report names the source when the key refuses it.
    lab.mock.disable_gcp_key(&id);
    lab.ksec()
        .env("GCE_METADATA_HOST", &lab.mock.host)
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has(format!(
            "the default service account of the GCE metadata server at GCE_METADATA_HOST={}",
            lab.mock.host
        ));
}

// ---------------------------------------------------------------------------------------------
// Azure Key Vault: the entry, and every credential source
// ---------------------------------------------------------------------------------------------

#[test]
fn an_azure_key_wraps_the_data_key_into_an_entry_as_sops_writes_it_and_unwraps_it() {
    let lab = lab();
    let url = lab.azure_key("entry", &["app:entry-app"]);
    let version = url.rsplit('/').next().unwrap().to_string();
    let out = lab
        .ksec_azure("tenant-entry", "entry-app")
        .args(["encrypt", "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains(&format!(
            "sops:\n    azure_kv:\n        - vault_url: {}\n          name: entry\n          version: {version}\n          created_at: ",
            lab.mock.addr
        )),
        "{out}"
    );
    // sops writes Key Vault's result in base64url without padding.
    let enc = field_of(&out, "azure_kv", "enc");
    assert!(!enc.contains(['=', '+', '/']), "{enc}");
    let ciphertext = URL_SAFE_NO_PAD.decode(enc).unwrap();
    assert!(ciphertext.starts_with(format!("MOCK[entry/{version}]").as_bytes()));
    lab.dir.write("f.enc.yaml", &out);
    decrypts_to(
        lab.ksec_azure("tenant-entry", "entry-app")
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    assert_eq!(
        lab.mock.requests_with("/keys/entry/"),
        [
            format!("POST /keys/entry/{version}/encrypt"),
            format!("POST /keys/entry/{version}/decrypt")
        ]
    );
    assert_eq!(lab.mock.requests_with("/tenant-entry/oauth2/v2.0/token").len(), 2);
}

#[test]
fn an_azure_key_named_without_a_version_records_its_current_version() {
    let lab = lab();
    lab.azure_key("latest", &["app:latest-app"]);
    let current = lab.mock.rotate_azure_key("latest");
    let versionless = format!("{}/keys/latest", lab.mock.addr);
    let out = lab
        .ksec_azure("tenant-latest", "latest-app")
        .args(["encrypt", "--azure-kv", &versionless, "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert_eq!(field_of(&out, "azure_kv", "version"), current);
    assert_eq!(lab.mock.requests_with("GET /keys/latest/").len(), 1);
    lab.dir.write("f.enc.yaml", &out);
    // A rule naming the key without a version names the entry: nothing to update.
    lab.write_config(&format!("creation_rules:\n  - azure_keyvault: {versionless}\n"));
    lab.ksec_azure("tenant-latest", "latest-app")
        .args(["updatekeys", "-y", "f.enc.yaml"])
        .run()
        .ok();
    assert_eq!(lab.dir.read_string("f.enc.yaml"), out, "the file is unchanged");
}

#[test]
fn a_client_certificate_signs_the_client_assertion() {
    let lab = lab();
    let cert = std::fs::read_to_string(common::testdata("cloud/client-cert.pem")).unwrap();
    let der: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(der).unwrap();
    lab.mock
        .azure_certificate("tenant-cert", "cert-app", &der, test_public_key());
    let url = lab.azure_key("cert", &["app:cert-app"]);
    let pem = lab.dir.write("client.pem", format!("{cert}{}", test_key_pem()));
    let ksec = || {
        let mut cmd = lab.ksec();
        cmd.env("AZURE_TENANT_ID", "tenant-cert")
            .env("AZURE_CLIENT_ID", "cert-app")
            .env("AZURE_CLIENT_CERTIFICATE_PATH", &pem);
        cmd
    };
    let enc = ksec().args(["encrypt", "--azure-kv", &url, "plain.yaml"]).run().ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(ksec().args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    ksec()
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw")
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("password-protected certificates (AZURE_CLIENT_CERTIFICATE_PASSWORD) are not supported");
}

#[test]
fn workload_identity_presents_the_federated_token_file() {
    let lab = lab();
    lab.mock.azure_federated("tenant-wi", "wi-app", "eyJ.federated.token");
    let url = lab.azure_key("workload", &["app:wi-app"]);
    let token = lab.dir.write("azure-identity-token", "eyJ.federated.token\n");
    let ksec = || {
        let mut cmd = lab.ksec();
        cmd.env("AZURE_TENANT_ID", "tenant-wi")
            .env("AZURE_CLIENT_ID", "wi-app")
            .env("AZURE_FEDERATED_TOKEN_FILE", &token);
        cmd
    };
    let enc = ksec().args(["encrypt", "--azure-kv", &url, "plain.yaml"]).run().ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(ksec().args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    std::fs::write(&token, "eyJ.someone.else").unwrap();
    ksec()
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("invalid or expired credentials: getting an access token")
        .stderr_has("AADSTS70021: No matching federated identity record found for presented assertion.")
        .stderr_has(format!(
            "app wi-app in tenant tenant-wi with the federated token AZURE_FEDERATED_TOKEN_FILE={} \
             (WorkloadIdentityCredential)",
            token.display()
        ))
        .stderr_lacks("eyJ.someone.else");
}

#[test]
fn managed_identity_tokens_come_from_imds_or_the_app_service_endpoint() {
    let lab = lab();
    lab.mock.imds_identity("mi-user-assigned", "mi:vm");
    lab.mock.app_service("app-service-header", "mi:web");
    let url = lab.azure_key("managed", &["mi:vm", "mi:web"]);
    let imds = || {
        let mut cmd = lab.ksec();
        cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &lab.mock.addr)
            .env("AZURE_CLIENT_ID", "mi-user-assigned");
        cmd
    };
    let enc = imds().args(["encrypt", "--azure-kv", &url, "plain.yaml"]).run().ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(imds().args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    decrypts_to(
        lab.ksec()
            .env("IDENTITY_ENDPOINT", format!("{}/msi/token", lab.mock.addr))
            .env("IDENTITY_HEADER", "app-service-header")
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // An identity IMDS does not know passes on to the Azure CLI, which is not logged in.
    lab.ksec()
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &lab.mock.addr)
        .env("AZURE_CLIENT_ID", "mi-unknown")
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_has("no credentials: no Azure credential is set up here")
        .stderr_has("ManagedIdentityCredential: IMDS at ")
        .stderr_has("invalid_request: Identity not found")
        .stderr_has("AzureCLICredential: az account get-access-token failed: ERROR: Please run 'az login'");
}

#[test]
fn the_azure_cli_login_is_used_when_nothing_else_is_set_up() {
    let lab = lab();
    let url = lab.azure_key("cli", &["user:cli"]);
    let token = lab.mock.azure_token("user:cli");
    lab.dir.script(
        "az",
        &format!(
            "[ \"$*\" = \"account get-access-token -o json --resource https://vault.azure.net\" ] || \
             {{ echo \"unexpected arguments: $*\" >&2; exit 2; }}\n\
             printf '{{\"accessToken\": \"{token}\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \
             \"subscription\": \"sub\", \"tenant\": \"cli-tenant\", \"tokenType\": \"Bearer\"}}\\n'\n"
        ),
    );
    let enc = lab
        .ksec()
        .args(["encrypt", "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    decrypts_to(lab.ksec().args(["decrypt", "f.enc.yaml"]).run(), PLAIN);
    // AZURE_TOKEN_CREDENTIALS=prod leaves the CLI out, as in the SDK.
    lab.ksec()
        .env("AZURE_TOKEN_CREDENTIALS", "prod")
        .args(["decrypt", "f.enc.yaml"])
        .run()
        .expect_code(NO_KEY)
        .stderr_lacks("AzureCLICredential");
    // A CLI that hangs is given up on.
    lab.dir.script("az", "sleep 30\n");
    let start = Instant::now();
    lab.ksec()
        .env("KSEC_KEY_SERVICE_TIMEOUT", "2")
        .args(["decrypt", "f.enc.yaml"])
        .run_within(Duration::from_secs(10))
        .expect_code(NO_KEY)
        .stderr_has("az account get-access-token did not finish within");
    assert!(start.elapsed() < Duration::from_secs(6));
}

// ---------------------------------------------------------------------------------------------
// With the other keys: groups, Shamir, rotate, updatekeys, variables
// ---------------------------------------------------------------------------------------------

#[test]
fn shamir_groups_of_a_gcp_key_an_azure_key_and_age_open_with_any_two() {
    let lab = lab();
    let id = lab.gcp_key("shamir", &["shamir@gcp"]);
    let version = lab.mock.azure_key("shamir", &["app:shamir-app"]);
    lab.write_config(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - gcp_kms:\n          - resource_id: {id}\n      \
         - azure_keyvault:\n          - vaultUrl: {}\n            key: shamir\n            version: {version}\n      \
         - age: [{AGE1}]\n",
        lab.mock.addr
    ));
    let google = lab.mock.google_token("shamir@gcp");
    let out = lab
        .ksec_azure("tenant-shamir", "shamir-app")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", &google)
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains("shamir_threshold: 2") && out.contains("key_groups:"),
        "{out}"
    );
    lab.dir.write("f.enc.yaml", &out);
    // age and GCP, Azure not set up.
    decrypts_to(
        common::with_vector_age(
            lab.ksec()
                .env("GOOGLE_OAUTH_ACCESS_TOKEN", &google)
                .args(["decrypt", "f.enc.yaml"]),
            false,
        )
        .run(),
        PLAIN,
    );
    // GCP and Azure, no age identity.
    decrypts_to(
        lab.ksec_azure("tenant-shamir", "shamir-app")
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", &google)
            .args(["decrypt", "f.enc.yaml"])
            .run(),
        PLAIN,
    );
    // age alone is one share of two, and the report says how each group failed.
    common::with_vector_age(lab.ksec().args(["decrypt", "f.enc.yaml"]), false)
        .run()
        .expect_code(NO_KEY)
        .stderr_has(format!("  group 0: FAILED\n    gcp_kms {id}: no credentials"))
        .stderr_has("  group 1: FAILED\n    azure_kv ")
        .stderr_has("  group 2: ok\n")
        .stderr_has("1 of 3 key groups decrypted; the Shamir threshold is 2");
}

#[test]
fn rotate_adds_a_gcp_key_and_removes_an_azure_key_as_sops_names_them() {
    let lab = lab();
    let id = lab.gcp_key("rotate", &["rotate@gcp"]);
    let url = lab.azure_key("rotate", &["app:rotate-app"]);
    let enc = lab
        .ksec_azure("tenant-rotate", "rotate-app")
        .args(["encrypt", "--azure-kv", &url, "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    common::with_vector_age(
        lab.ksec_google("rotate@gcp").args([
            "rotate",
            "-i",
            "--add-gcp-kms",
            &id,
            "--rm-azure-kv",
            &url,
            "f.enc.yaml",
        ]),
        false,
    )
    .run()
    .ok();
    let text = lab.dir.read_string("f.enc.yaml");
    assert!(
        text.contains(&format!("resource_id: {id}")) && !text.contains("azure_kv") && text.contains(AGE1),
        "{text}"
    );
    decrypts_to(
        lab.ksec_google("rotate@gcp").args(["decrypt", "f.enc.yaml"]).run(),
        PLAIN,
    );
}

#[test]
fn updatekeys_adds_gcp_and_azure_keys_from_sops_yaml_and_keeps_them_without_asking_again() {
    let lab = lab();
    let id = lab.gcp_key("updatekeys", &["update@gcp"]);
    let url = lab.azure_key("updatekeys", &["app:update-app"]);
    let enc = lab.ksec().args(["encrypt", "--age", AGE1, "plain.yaml"]).run().ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.write_config(&format!(
        "creation_rules:\n  - age: {AGE1}\n    gcp_kms: {id}\n    azure_keyvault: {url}\n"
    ));
    common::with_vector_age(
        lab.ksec_azure("tenant-update", "update-app")
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("update@gcp"))
            .args(["updatekeys", "-y", "f.enc.yaml"]),
        false,
    )
    .run()
    .ok()
    .stderr_has(format!("+ gcp_kms {id}"))
    .stderr_has(format!("+ azure_kv {url}"));
    let with_services = lab.dir.read_string("f.enc.yaml");
    decrypts_to(
        lab.ksec_google("update@gcp").args(["decrypt", "f.enc.yaml"]).run(),
        PLAIN,
    );
    // Adding an age key keeps both entries as they are, without credentials for either service.
    lab.write_config(&format!(
        "creation_rules:\n  - age: {AGE1},{AGE2}\n    gcp_kms: {id}\n    azure_keyvault: {url}\n"
    ));
    let asked = lab.mock.requests_with("updatekeys").len();
    common::with_vector_age(lab.ksec().args(["updatekeys", "-y", "f.enc.yaml"]), false)
        .run()
        .ok()
        .stderr_has(format!("+ age {AGE2}"));
    assert_eq!(
        lab.mock.requests_with("updatekeys").len(),
        asked,
        "no service was asked"
    );
    let entries = |text: &str| {
        let start = text.find("    gcp_kms:").expect("a gcp entry");
        text[start..].lines().take(10).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(entries(&lab.dir.read_string("f.enc.yaml")), entries(&with_services));
}

#[test]
fn sops_gcp_kms_ids_and_sops_azure_keyvault_urls_name_the_keys_to_encrypt_for() {
    let lab = lab();
    let id = lab.gcp_key("env-vars", &["env@gcp"]);
    let url = lab.azure_key("env-vars", &["app:env-app"]);
    let out = lab
        .ksec_azure("tenant-env", "env-app")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("env@gcp"))
        .env("SOPS_GCP_KMS_IDS", &id)
        .env("SOPS_AZURE_KEYVAULT_URLS", &url)
        .args(["encrypt", "plain.yaml"])
        .run()
        .ok()
        .stdout_text();
    assert!(
        out.contains(&format!("resource_id: {id}")) && out.contains("name: env-vars"),
        "{out}"
    );
}

#[test]
fn age_opens_a_file_before_any_cloud_service_is_asked() {
    let lab = lab();
    let id = lab.gcp_key("age-first", &["age-first@gcp"]);
    let enc = lab
        .ksec_google("age-first@gcp")
        .args(["encrypt", "--gcp-kms", &id, "--age", AGE1, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    // Unusable cloud settings do not matter to a file age opens.
    decrypts_to(
        common::with_vector_age(
            lab.ksec()
                .env("SOPS_GCP_KMS_ENDPOINT", "http://kms.example.com")
                .env("AZURE_TOKEN_CREDENTIALS", "nonsense")
                .args(["decrypt", "f.enc.yaml"]),
            false,
        )
        .run(),
        PLAIN,
    );
    assert!(lab.mock.requests_with(&format!("{id}:decrypt")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Faults: what the user is told, and how fast
// ---------------------------------------------------------------------------------------------

#[test]
fn gcp_refusals_name_the_key_the_identity_and_what_cloud_kms_said() {
    let lab = lab();
    let id = lab.gcp_key("refusals", &["owner@gcp"]);
    let enc = lab
        .ksec_google("owner@gcp")
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);

    let stranger = lab.mock.google_token("stranger@gcp");
    refused_within(
        lab.ksec().env("GOOGLE_OAUTH_ACCESS_TOKEN", &stranger),
        Duration::from_secs(5),
    )
    .stderr_has(format!(
        "gcp_kms {id}: access denied: Cloud KMS answered 403: PERMISSION_DENIED: Permission \
         'cloudkms.cryptoKeyVersions.useToDecrypt' denied"
    ))
    .stderr_has(format!(
        "(Cloud KMS at {}, access token from GOOGLE_OAUTH_ACCESS_TOKEN)",
        lab.mock.addr
    ))
    .stderr_has("ksec: hint: the caller needs cloudkms.cryptoKeyVersions.useToEncrypt and useToDecrypt")
    .stderr_lacks(&stranger);

    let owner = lab.mock.google_token("owner@gcp");
    lab.mock.expire_tokens("owner@gcp");
    refused_within(
        lab.ksec().env("GOOGLE_OAUTH_ACCESS_TOKEN", &owner),
        Duration::from_secs(5),
    )
    .stderr_has("invalid or expired credentials: Cloud KMS answered 401: UNAUTHENTICATED")
    .stderr_has("ksec: hint: Google refused the credentials")
    .stderr_lacks(&owner);

    let id2 = lab.gcp_key("refusals-2", &["owner2@gcp"]);
    let enc = lab
        .ksec_google("owner2@gcp")
        .args(["encrypt", "--gcp-kms", &id2, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.mock.disable_gcp_key(&id2);
    refused_within(&mut lab.ksec_google("owner2@gcp"), Duration::from_secs(5))
        .stderr_has("key disabled: Cloud KMS answered 400: FAILED_PRECONDITION")
        .stderr_has("ksec: hint: the key may not be used now");
    lab.mock.delete_gcp_key(&id2);
    refused_within(&mut lab.ksec_google("owner2@gcp"), Duration::from_secs(5)).stderr_has(format!(
        "key deleted or not found: Cloud KMS answered 404: NOT_FOUND: CryptoKey {id2} not found."
    ));
    // Encrypting for a key the caller may not use fails as sops fails: exit 1.
    lab.ksec_google("stranger@gcp")
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!("cannot wrap the data key for gcp_kms {id}: access denied"));
}

#[test]
fn azure_refusals_name_the_key_the_identity_and_what_key_vault_said() {
    let lab = lab();
    let url = lab.azure_key("refusals", &["app:owner-app"]);
    let enc = lab
        .ksec_azure("tenant-refusals", "owner-app")
        .args(["encrypt", "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);

    // A wrong secret is refused by the authority, and the secret is never shown.
    lab.mock
        .azure_secret("tenant-refusals", "owner-app", "secret-of-owner-app");
    refused_within(
        lab.ksec()
            .env("AZURE_TENANT_ID", "tenant-refusals")
            .env("AZURE_CLIENT_ID", "owner-app")
            .env("AZURE_CLIENT_SECRET", "wrong-secret-value"),
        Duration::from_secs(5),
    )
    .stderr_has("invalid or expired credentials: getting an access token")
    .stderr_has("invalid_client: AADSTS7000215: Invalid client secret provided.")
    .stderr_has("app owner-app in tenant tenant-refusals with AZURE_CLIENT_SECRET (EnvironmentCredential)")
    .stderr_has("ksec: hint: Azure refused the credentials or the token")
    .stderr_lacks("wrong-secret-value");

    refused_within(
        &mut lab.ksec_azure("tenant-refusals", "other-app"),
        Duration::from_secs(5),
    )
    .stderr_has("access denied: Key Vault answered 403: Forbidden (ForbiddenByRbac): Caller is not authorized")
    .stderr_has(format!(
        "(Key Vault at {}, app other-app in tenant tenant-refusals",
        lab.mock.addr
    ))
    .stderr_has("ksec: hint: the identity needs the encrypt and decrypt key permissions");

    let token = lab.mock.azure_token("user:expiring");
    lab.mock.imds_identity("expiring-mi", "user:expiring");
    let url2 = lab.azure_key("refusals-2", &["app:owner-app", "user:expiring"]);
    let enc = lab
        .ksec_azure("tenant-refusals", "owner-app")
        .args(["encrypt", "--azure-kv", &url2, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    lab.mock.expire_tokens("user:expiring");
    lab.dir.script(
        "az",
        &format!("printf '{{\"accessToken\": \"{token}\", \"expiresOn\": \"2099-01-01T00:00:00Z\"}}'\n"),
    );
    refused_within(&mut lab.ksec(), Duration::from_secs(5))
        .stderr_has("invalid or expired credentials: Key Vault answered 401: Unauthorized: [TokenExpired]")
        .stderr_has("the Azure CLI's login (AzureCLICredential)")
        .stderr_lacks(&token);

    lab.mock.disable_azure_key("refusals-2");
    refused_within(&mut lab.ksec_azure("tenant-refusals", "owner-app"), Duration::from_secs(5))
        .stderr_has("key disabled: Key Vault answered 403: Forbidden (KeyDisabled): Operation decrypt is not allowed on a disabled key.");
    lab.mock.delete_azure_key("refusals-2");
    refused_within(
        &mut lab.ksec_azure("tenant-refusals", "owner-app"),
        Duration::from_secs(5),
    )
    .stderr_has("key deleted or not found: Key Vault answered 404: KeyNotFound");
    lab.ksec_azure("tenant-refusals", "other-app")
        .args(["encrypt", "--azure-kv", &url, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!("cannot wrap the data key for azure_kv {url}: access denied"));
}

#[test]
fn an_unreachable_service_fails_at_once_naming_the_key_and_the_endpoint() {
    let lab = lab();
    let id = lab.gcp_key("down", &["down@gcp"]);
    let url = lab.azure_key("down", &["app:down-app"]);
    let enc = lab
        .ksec_azure("tenant-down", "down-app")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("down@gcp"))
        .args(["encrypt", "--gcp-kms", &id, "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok();
    let down = format!("http://127.0.0.1:{}", common::free_port());
    lab.dir
        .write("f.enc.yaml", enc.stdout_text().replace(&lab.mock.addr, &down));
    refused_within(
        lab.ksec_azure("tenant-down", "down-app")
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("down@gcp"))
            .env("SOPS_GCP_KMS_ENDPOINT", &down),
        Duration::from_secs(5),
    )
    .stderr_has(format!("gcp_kms {id}: endpoint unreachable: "))
    .stderr_has(format!(
        "(Cloud KMS at {down}, access token from GOOGLE_OAUTH_ACCESS_TOKEN)"
    ))
    .stderr_has(format!(
        "azure_kv {}: endpoint unreachable: ",
        url.replace(&lab.mock.addr, &down)
    ))
    .stderr_has(format!("(Key Vault at {down}, app down-app in tenant tenant-down"));
    lab.ksec_google("down@gcp")
        .env("SOPS_GCP_KMS_ENDPOINT", &down)
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .expect_code(1)
        .stderr_has(format!(
            "cannot wrap the data key for gcp_kms {id}: endpoint unreachable"
        ));
}

#[test]
fn a_silent_service_times_out_within_the_limit_the_variable_sets() {
    let lab = lab();
    let id = lab.gcp_key("silent", &["silent@gcp"]);
    let url = lab.azure_key("silent", &["app:silent-app"]);
    let enc = lab
        .ksec_azure("tenant-silent", "silent-app")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("silent@gcp"))
        .args(["encrypt", "--gcp-kms", &id, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    let silent = common::silent_server();
    let start = Instant::now();
    refused_within(
        lab.ksec_google("silent@gcp")
            .env("SOPS_GCP_KMS_ENDPOINT", &silent)
            .env("KSEC_KEY_SERVICE_TIMEOUT", "2"),
        Duration::from_secs(6),
    )
    .stderr_has("timed out: ")
    .stderr_has("the 2 s limit (KSEC_KEY_SERVICE_TIMEOUT)")
    .stderr_has("raise KSEC_KEY_SERVICE_TIMEOUT");
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "the limit is waited for"
    );

    let enc = lab
        .ksec_azure("tenant-silent", "silent-app")
        .args(["encrypt", "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok();
    lab.dir
        .write("f.enc.yaml", enc.stdout_text().replace(&lab.mock.addr, &silent));
    refused_within(
        lab.ksec_azure("tenant-silent", "silent-app")
            .env("KSEC_KEY_SERVICE_TIMEOUT", "2"),
        Duration::from_secs(6),
    )
    .stderr_has("azure_kv ")
    .stderr_has("timed out: ");
}

#[test]
fn without_credentials_the_report_says_where_ksec_looked() {
    let lab = lab();
    let id = lab.gcp_key("no-credentials", &["nocred@gcp"]);
    let url = lab.azure_key("no-credentials", &["app:nocred-app"]);
    let enc = lab
        .ksec_azure("tenant-nocred", "nocred-app")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", lab.mock.google_token("nocred@gcp"))
        .args(["encrypt", "--gcp-kms", &id, "--azure-kv", &url, "plain.yaml"])
        .run()
        .ok();
    lab.dir.write("f.enc.yaml", enc.stdout);
    // The lab's metadata server knows no service account, and IMDS does not answer.
    refused_within(&mut lab.ksec(), Duration::from_secs(8))
        .stderr_has(format!(
            "gcp_kms {id}: no credentials: the metadata server answered 404"
        ))
        .stderr_has("this machine has no service account")
        .stderr_has("azure_kv ")
        .stderr_has(
            "no credentials: no Azure credential is set up here: EnvironmentCredential: AZURE_TENANT_ID and \
                 AZURE_CLIENT_ID are not both set; WorkloadIdentityCredential: ",
        )
        .stderr_has("ManagedIdentityCredential: no IMDS answered at http://127.0.0.1:")
        .stderr_has("GCP KMS: the default service account of the GCE metadata server")
        .stderr_has("Azure Key Vault: DefaultAzureCredential (no credentials)")
        .stderr_has("ksec: hint: set GOOGLE_APPLICATION_CREDENTIALS to a credentials file");
}

// ---------------------------------------------------------------------------------------------
// The harness: cloud credentials of the caller's shell never reach a command
// ---------------------------------------------------------------------------------------------

/// Not a test on its own: the next test runs this binary again with cloud variables set, and
/// this prints what a command started through the harness sees.
#[test]
fn prints_the_environment_a_harness_command_gets() {
    if std::env::var_os("KSEC_TEST_PRINT_ENV").is_none() {
        return;
    }
    let dir = Dir::new();
    let run = dir.command("env").run().ok();
    println!("child-env-start\n{}child-env-end", run.stdout_text());
}

#[test]
fn cloud_credentials_of_the_caller_never_reach_commands() {
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "prints_the_environment_a_harness_command_gets",
            "--nocapture",
        ])
        .env("KSEC_TEST_PRINT_ENV", "1")
        .env("GOOGLE_APPLICATION_CREDENTIALS", "/leaked/adc.json")
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "leaked-token")
        .env("GCE_METADATA_HOST", "leaked:80")
        .env("AZURE_CLIENT_SECRET", "leaked-secret")
        .env("IDENTITY_ENDPOINT", "http://leaked")
        .env("CLOUDSDK_CONFIG", "/leaked")
        .output()
        .expect("run this binary again");
    let text = String::from_utf8_lossy(&out.stdout);
    let env = &text[text.find("child-env-start").expect("the child's environment")..];
    assert!(!env.contains("leaked"), "{env}");
}
