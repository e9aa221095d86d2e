/// A template version, `MAJOR.MINOR.PATCH[-PRERELEASE]`, ordered as Semantic Versioning 2.0 says.
///
/// Template versions decide which upgrades a resource is offered and which need `force_version_update`,
/// so they must compare as numbers (`1.10.0 > 1.9.0`) and pre-releases must sort below their release.
/// Build metadata (`+…`) and leading zeros are rejected, as Azure TRE's `semantic_version` does.
public struct SemanticVersion: Comparable, Sendable, Hashable, LosslessStringConvertible, Codable {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// Dot-separated pre-release identifiers (`["rc", "1"]` for `-rc.1`); empty for a release.
    public var prerelease: [String]

    public init(major: Int, minor: Int, patch: Int, prerelease: [String] = []) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
    }

    /// Parses `text`; nil when it is not `MAJOR.MINOR.PATCH` with an optional `-pre.release`.
    public init?(_ text: String) {
        var core = Substring(text)
        var prerelease: [String] = []
        if let dash = text.firstIndex(of: "-") {
            core = text[..<dash]
            let pre = text[text.index(after: dash)...]
            let identifiers = pre.split(separator: ".", omittingEmptySubsequences: false)
            for identifier in identifiers {
                guard !identifier.isEmpty,
                    identifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
                else { return nil }
                if identifier.allSatisfy(\.isNumber), identifier.count > 1, identifier.first == "0" { return nil }
                prerelease.append(String(identifier))
            }
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0", let value = Int(part)
            else { return nil }
            numbers.append(value)
        }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2], prerelease: prerelease)
    }

    public var description: String {
        let core = "\(major).\(minor).\(patch)"
        return prerelease.isEmpty ? core : core + "-" + prerelease.joined(separator: ".")
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if (lhs.major, lhs.minor, lhs.patch) != (rhs.major, rhs.minor, rhs.patch) {
            return (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
        // A release outranks any of its pre-releases.
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (a, b) in zip(lhs.prerelease, rhs.prerelease) where a != b {
            switch (Int(a), Int(b)) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true  // numeric identifiers sort below alphanumeric ones
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let version = SemanticVersion(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a semantic version")
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A newer registered version a resource may move to, in Azure TRE's `availableUpgrades` wire shape.
public struct AvailableUpgrade: Codable, Sendable, Hashable {
    public var version: String
    /// True for a higher major version: PATCH must then pass `force_version_update=true`.
    public var forceUpdateRequired: Bool

    public init(version: String, forceUpdateRequired: Bool) {
        self.version = version
        self.forceUpdateRequired = forceUpdateRequired
    }
}

extension SemanticVersion {
    /// Every registered version above `current`, as Azure TRE lists them on a resource: first the
    /// same-major versions, then the higher-major ones (`forceUpdateRequired`), each group ascending.
    ///
    /// Unparseable versions (registered before validation existed) are skipped rather than failing a GET.
    public static func availableUpgrades(from current: String, registered: [String]) -> [AvailableUpgrade] {
        guard let currentVersion = SemanticVersion(current) else { return [] }
        var seen = Set<SemanticVersion>()
        let higher = registered.compactMap(SemanticVersion.init).filter { $0 > currentVersion && seen.insert($0).inserted }
            .sorted()
        let minor = higher.filter { $0.major <= currentVersion.major }
        let major = higher.filter { $0.major > currentVersion.major }
        return minor.map { AvailableUpgrade(version: $0.description, forceUpdateRequired: false) }
            + major.map { AvailableUpgrade(version: $0.description, forceUpdateRequired: true) }
    }

    /// Checks a PATCH of `templateVersion` from `current` to `desired` with Azure TRE's rules and messages.
    ///
    /// Order matters and follows Azure TRE: an unparseable version first, then (unless `force`) a
    /// higher major or any downgrade, then whether `desired` is registered for this template.
    /// - Throws: `EnclaveError.badRequest` with Azure TRE's exact message.
    public static func validateUpgrade(
        templateName: String, resourceType: ResourceType, from current: String, to desired: String,
        registered: [String], force: Bool
    ) throws(EnclaveError) {
        guard let desiredVersion = SemanticVersion(desired), let currentVersion = SemanticVersion(current) else {
            throw .badRequest("Attempt to upgrade from \(current) to \(desired) denied. Invalid version format.")
        }
        if !force {
            if desiredVersion.major > currentVersion.major {
                throw .badRequest(
                    "Attempt to upgrade from \(currentVersion) to \(desiredVersion) denied. major version upgrade is not allowed.")
            }
            if desiredVersion < currentVersion {
                throw .badRequest(
                    "Attempt to downgrade from \(currentVersion) to \(desiredVersion) denied. version downgrade is not allowed.")
            }
        }
        if !registered.contains(desired) {
            throw .badRequest(
                "Template '\(templateName)' not found for resource type '\(resourceType.rawValue)' with target template version '\(desired)'")
        }
    }
}
