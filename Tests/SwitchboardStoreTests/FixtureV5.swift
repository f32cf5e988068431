/// What `Fixtures/v5.sqlite` holds: ``FixtureV4Late``'s contents, written by the store of commit
/// 483b91b (schema v5, `v5-drop-unused-session-indexes`, the last before tenants) through its
/// public API.
///
/// Frozen with the file: change neither.
enum FixtureV5 {
    static let migrations = FixtureV4.migrations + ["v5-drop-unused-session-indexes"]
}
