// Drives rotor-emulator with the official Azure SDK for JavaScript, using
// only the SDK's public options: endpoint, CA (NODE_EXTRA_CA_CERTS), a
// credential. Started by run.sh.
import assert from "node:assert/strict";
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { ResourceManagementClient } from "@azure/arm-resources";

const port = process.env.EMULATOR_PORT;
const tenant = process.env.EMULATOR_TENANT;
// Node cannot resolve *.localhost names: use the bare address, where the
// emulator serves every endpoint (Key Vault paths go to the first vault).
const base = `https://127.0.0.1:${port}`;

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${e && e.stack ? e.stack : e}`);
  }
}

const credential = new ClientSecretCredential(
  tenant,
  process.env.AZURE_CLIENT_ID,
  process.env.AZURE_CLIENT_SECRET,
  { authorityHost: base, disableInstanceDiscovery: true },
);

// The vault is on 127.0.0.1, not under the challenge's resource domain
// (vault.localhost): the SDK's public option says so.
const secrets = new SecretClient(base, credential, { disableChallengeResourceVerification: true });
const poll = { intervalInMs: 100 };

await check("a wrong client secret is refused by the token endpoint", async () => {
  const bad = new ClientSecretCredential(tenant, process.env.AZURE_CLIENT_ID, "wrong", {
    authorityHost: base,
    disableInstanceDiscovery: true,
  });
  const client = new SecretClient(base, bad, { disableChallengeResourceVerification: true });
  await assert.rejects(client.getSecret("anything"), /AADSTS7000215|invalid_client/);
});

await check("set and get (challenge, token, date-style api-version)", async () => {
  const set = await secrets.setSecret("admin", "admin-pw", {
    contentType: "user credentials",
    tags: { "managed-by": "rotor" },
  });
  assert.equal(set.value, "admin-pw");
  assert.equal(set.properties.contentType, "user credentials");
  assert.equal(set.properties.version.length, 32);
  assert.equal(set.properties.vaultUrl, base);
  const got = await secrets.getSecret("ADMIN");
  assert.equal(got.value, "admin-pw");
  assert.equal(got.properties.tags["managed-by"], "rotor");
  assert.equal(got.properties.recoveryLevel, "Recoverable+Purgeable");
  assert.equal(got.properties.recoverableDays, 90);
});

await check("serviceVersion 7.4 works too", async () => {
  const old = new SecretClient(base, credential, {
    serviceVersion: "7.4",
    disableChallengeResourceVerification: true,
  });
  await old.setSecret("seven-four", "v");
  assert.equal((await old.getSecret("seven-four")).value, "v");
});

await check("list all pages", async () => {
  for (let i = 0; i < 30; i++) await secrets.setSecret(`user${String(i).padStart(2, "0")}`, `pw${i}`);
  const names = [];
  for await (const p of secrets.listPropertiesOfSecrets()) names.push(p.name);
  assert.ok(names.length >= 31, `listed ${names.length}`);
  let pages = 0;
  let items = 0;
  for await (const page of secrets.listPropertiesOfSecrets().byPage({ maxPageSize: 7 })) {
    pages++;
    items += page.length;
    assert.ok(page.length <= 7);
  }
  assert.equal(items, names.length);
  assert.equal(pages, Math.ceil(names.length / 7));
});

await check("versions and update (disable -> 403 SecretDisabled)", async () => {
  const v1 = await secrets.setSecret("multi", "one");
  await secrets.setSecret("multi", "two");
  const v3 = await secrets.setSecret("multi", "three");
  const versions = [];
  for await (const p of secrets.listPropertiesOfSecretVersions("multi")) versions.push(p.version);
  assert.equal(versions.length, 3);
  assert.ok(versions.includes(v1.properties.version));
  const old = await secrets.getSecret("multi", { version: v1.properties.version });
  assert.equal(old.value, "one");
  const updated = await secrets.updateSecretProperties("multi", v3.properties.version, {
    enabled: false,
    contentType: "text/plain",
    tags: { a: "b" },
  });
  assert.equal(updated.enabled, false);
  assert.equal(updated.contentType, "text/plain");
  await assert.rejects(secrets.getSecret("multi"), (e) => {
    assert.equal(e.statusCode, 403);
    assert.equal(e.code, "Forbidden");
    return true;
  });
  await secrets.updateSecretProperties("multi", v3.properties.version, { enabled: true });
  assert.equal((await secrets.getSecret("multi")).value, "three");
});

await check("delete, deleted secrets, recover, purge", async () => {
  await secrets.setSecret("doomed", "x");
  const deletePoller = await secrets.beginDeleteSecret("doomed", poll);
  const deleted = await deletePoller.pollUntilDone();
  assert.equal(deleted.name, "doomed");
  assert.ok(deleted.recoveryId.endsWith("/deletedsecrets/doomed"));
  assert.ok(deleted.deletedOn instanceof Date);
  const fetched = await secrets.getDeletedSecret("doomed");
  assert.equal(fetched.name, "doomed");
  const listed = [];
  for await (const d of secrets.listDeletedSecrets()) listed.push(d.name);
  assert.ok(listed.includes("doomed"));
  await assert.rejects(secrets.setSecret("doomed", "again"), (e) => e.statusCode === 409);
  const recoverPoller = await secrets.beginRecoverDeletedSecret("doomed", poll);
  const recovered = await recoverPoller.pollUntilDone();
  assert.equal(recovered.name, "doomed");
  assert.equal((await secrets.getSecret("doomed")).value, "x");
  await (await secrets.beginDeleteSecret("doomed", poll)).pollUntilDone();
  await secrets.purgeDeletedSecret("doomed");
  await assert.rejects(secrets.getDeletedSecret("doomed"), (e) => e.statusCode === 404);
  await secrets.setSecret("doomed", "reborn");
});

const template = {
  $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  contentVersion: "1.0.0.0",
  parameters: {
    adminUsername: { type: "string" },
    location: { type: "string", defaultValue: "local" },
    servicePrincipalClientSecret: { type: "securestring" },
  },
  resources: [],
  outputs: {
    admin: { type: "string", value: "[parameters('adminUsername')]" },
    location: { type: "string", value: "[parameters('location')]" },
  },
};

await check("create-or-update-and-wait of a deployment, get, list, exportTemplate", async () => {
  const arm = new ResourceManagementClient(credential, "00000000-0000-0000-0000-0000000000aa", {
    endpoint: base,
    credentialScopes: [`${process.env.EMULATOR_ARM_AUDIENCE}/.default`],
  });
  const result = await arm.deployments.beginCreateOrUpdateAndWait(
    "sdkrg",
    "registry",
    {
      properties: {
        mode: "Incremental",
        template,
        parameters: {
          adminUsername: { value: "azureuser" },
          servicePrincipalClientSecret: { value: "sp-secret" },
        },
      },
    },
    { updateIntervalInMs: 100 },
  );
  assert.equal(result.properties.provisioningState, "Succeeded");
  assert.equal(result.properties.outputs.admin.value, "azureuser");
  assert.equal(result.properties.outputs.location.value, "local");
  assert.equal(result.properties.parameters.servicePrincipalClientSecret.value, undefined);
  const got = await arm.deployments.get("sdkrg", "registry");
  assert.equal(got.name, "registry");
  const names = [];
  for await (const d of arm.deployments.listByResourceGroup("sdkrg")) names.push(d.name);
  assert.deepEqual(names, ["registry"]);
  const exported = await arm.deployments.exportTemplate("sdkrg", "registry");
  assert.equal(exported.template.parameters.adminUsername.type, "string");
  await assert.rejects(
    arm.deployments.beginCreateOrUpdateAndWait("nosuchgroup", "x", {
      properties: { mode: "Incremental", template, parameters: { adminUsername: { value: "a" } } },
    }),
    (e) => e.statusCode === 404 && e.code === "ResourceGroupNotFound",
  );
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
