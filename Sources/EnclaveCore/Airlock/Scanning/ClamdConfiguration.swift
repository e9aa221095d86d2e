/// The `clamd.conf` Enclave writes for the clamd it runs itself (`DATA/airlock/clamd/clamd.conf`).
///
/// Rendering is pure so that the fail-closed settings are tested without starting clamd. Every limit is
/// set explicitly and `AlertExceedsMax yes` turns an exceeded limit into a `Heuristics.Limits.Exceeded`
/// finding: with clamd's defaults (MaxFileSize 100M) a larger infected file is reported `OK` with
/// nothing scanned (reference dataplane.md §3, fail-open trap 1).
public struct ClamdConfiguration: Sendable, Hashable {
    /// 4000 MiB: clamd caps every size option at 4 GB (`man clamd.conf`, NOTES); this value is accepted as is.
    public static let largestSizeOption = 4_000 * 1_024 * 1_024
    /// The largest single file libclamav scans: clamd 1.4 logs "File size limit set to 2147483645
    /// bytes" for any larger `MaxFileSize`. A bigger file is a `Heuristics.Limits.Exceeded.MaxFileSize`
    /// finding, so Enclave blocks it; operators who import larger files must split them.
    public static let largestScannableFile = 2_147_483_645

    public var socketPath: String
    public var databaseDirectory: String
    /// Where clamd unpacks archives while scanning (kept inside Enclave's data directory, not /tmp).
    public var temporaryDirectory: String
    /// The largest file (and the largest file inside an archive) clamd scans; larger is a finding.
    public var maxFileSize: Int
    /// The most bytes clamd scans per input, archive members included (an archive and its contents count twice).
    public var maxScanSize: Int
    /// The most bytes clamd reads from an `INSTREAM` connection.
    public var streamMaxLength: Int
    /// How deep nested archives are unpacked; deeper is a finding.
    public var maxRecursion: Int
    /// How many files inside one archive are scanned; more is a finding.
    public var maxFiles: Int
    /// The longest one scan may take, in milliseconds; longer is a finding.
    public var maxScanTimeMilliseconds: Int
    /// Scan threads (clamd's `MaxThreads`).
    public var maxThreads: Int
    /// Off only for benchmarks: clamd caches clean verdicts by hash, which makes repeated scans look fast.
    public var disableCache: Bool
    /// The user clamd drops to after start (`User`); nil keeps the user that started it.
    public var user: String?

    /// A configuration whose limits cover `perFileLimit` (Enclave's per-file upload limit), up to what
    /// clamd can scan at all; files beyond that are findings, never silent passes.
    public init(
        socketPath: String, databaseDirectory: String, temporaryDirectory: String, perFileLimit: Int,
        maxRecursion: Int = 17, maxFiles: Int = 10_000, maxScanTimeMilliseconds: Int = 600_000, maxThreads: Int = 4,
        disableCache: Bool = false, user: String? = nil
    ) {
        self.socketPath = socketPath
        self.databaseDirectory = databaseDirectory
        self.temporaryDirectory = temporaryDirectory
        let fileLimit = min(max(perFileLimit, 1), Self.largestScannableFile)
        self.maxFileSize = fileLimit
        // An archive's members count on top of the archive itself, so the scan budget is the largest clamd allows.
        self.maxScanSize = Self.largestSizeOption
        self.streamMaxLength = min(max(perFileLimit, 1), Self.largestSizeOption)
        self.maxRecursion = maxRecursion
        self.maxFiles = maxFiles
        self.maxScanTimeMilliseconds = maxScanTimeMilliseconds
        self.maxThreads = maxThreads
        self.disableCache = disableCache
        self.user = user
    }

    /// Whether a file of `size` bytes can be scanned completely (else clamd reports the limit as a finding).
    public func covers(fileSize size: Int) -> Bool { size <= maxFileSize }

    /// The file's text. Sizes are written in bytes, which clamd accepts without a suffix.
    public func render() -> String {
        var lines = [
            "# Written by Enclave on every start; edits are overwritten. See docs/airlock.md (Malware scanning).",
            "Foreground yes",
            "LocalSocket \(socketPath)",
            "LocalSocketMode 660",
            "FixStaleSocket yes",
            "DatabaseDirectory \(databaseDirectory)",
            "TemporaryDirectory \(temporaryDirectory)",
            "LogTime yes",
            "LogVerbose no",
            "ScanArchive yes",
            "ScanPE yes",
            "ScanELF yes",
            "ScanOLE2 yes",
            "ScanPDF yes",
            "ScanHTML yes",
            "ScanMail yes",
            "AlertExceedsMax yes",
            "AlertEncrypted no",
            "AlertBrokenExecutables no",
            "MaxFileSize \(maxFileSize)",
            "MaxScanSize \(maxScanSize)",
            "StreamMaxLength \(streamMaxLength)",
            "MaxRecursion \(maxRecursion)",
            "MaxFiles \(maxFiles)",
            "MaxScanTime \(maxScanTimeMilliseconds)",
            "MaxThreads \(maxThreads)",
            "ReadTimeout 300",
            "CommandReadTimeout 30",
            "SelfCheck 600",
            "ConcurrentDatabaseReload yes",
        ]
        if disableCache { lines.append("DisableCache yes") }
        if let user { lines.append("User \(user)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
