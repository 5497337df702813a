// rotor-emulator --seed-registry: after start-up, the emulator stands up
// what Microsoft's manual procedure for the Azure Stack Hub container
// registry leaves behind, made without rotor, so that rotor can be tried on
// it as on a stamp (Emulator::SeedRegistry, seed.cc):
//
//  - in the first vault (kSeedVault when none is given): a secret per
//    registry user (kSeedUsers) with content type `user credentials` and a
//    random password, and the certificate secret kSeedCertificateSecret in
//    the template's envelope (base64 of {"data", "dataType": "pfx",
//    "password"}) with content type `pfx`: a certificate for the registry
//    host, made with OpenSSL at that moment by a CA of its own, written to
//    DIR/registry-ca.pem;
//  - in the first resource group (kSeedResourceGroup when none is given):
//    a successful deployment kSeedDeployment of the gallery template
//    (examples/registry-template.json, compiled in), which replays the
//    registry VM, with a real docker-registry behind it when --registry-cmd
//    is given;
//  - DIR/seed.env (0600): `export NAME='value'` lines with the users'
//    passwords (REGISTRY_USER_<NAME>_PASSWORD) and the service principal
//    the deployment used (REGISTRY_SPN_CLIENT_ID, REGISTRY_SPN_CLIENT_SECRET:
//    the first --client, else one made up, which the emulator accepts as it
//    accepts any client when none is declared).
//
// Nothing is done again when the state folder holds it already (seed.env,
// the certificate secret and a successful deployment kSeedDeployment): a
// restart prints the same lines. The lines ("KEY VALUE") say what a user of
// rotor needs; no password is ever printed.
#ifndef ROTOR_TESTS_EMULATOR_SEED_H_
#define ROTOR_TESTS_EMULATOR_SEED_H_

namespace rotor::emulator {

inline constexpr char kSeedVault[] = "newregkv";
inline constexpr char kSeedResourceGroup[] = "newregreg";
inline constexpr char kSeedDeployment[] = "registry";
inline constexpr char kSeedCertificateSecret[] = "containersecret";
inline constexpr const char* kSeedUsers[] = {"admin", "ci"};
// The subscription the seeded deployment and resource ids name (ARM
// accepts any).
inline constexpr char kSeedSubscription[] = "5b8c2a3e-0f1d-4c6b-9e7a-2d3f4a5b6c7d";
// The public IP's DNS label: the registry is at
// https://<label>.local.cloudapp.localhost (template.h).
inline constexpr char kSeedDomainNameLabel[] = "myreg";
inline constexpr char kSeedEnvFile[] = "seed.env";
inline constexpr char kSeedRegistryCaFile[] = "registry-ca.pem";

// The gallery template's text (examples/registry-template.json), compiled in
// by tests/emulator/CMakeLists.txt.
extern const char kGalleryTemplateJson[];

}  // namespace rotor::emulator

#endif  // ROTOR_TESTS_EMULATOR_SEED_H_
