import EnclaveAirlock
import EnclaveCore
import EnclavePortal
import Foundation

// The view models of the airlock pages. Mustache reads stored properties only (through Mirror), so every
// flag a template tests is a stored Bool computed here.

/// A table of requests (`airlock-rows` partial), with the columns the page needs.
struct AirlockRequestTable {
    struct Row {
        var href: String
        var title: String
        var type: String
        var workspaceName: String
        var workspaceHref: String
        var requester: String
        var status: String
        var statusClass: String
        var updated: String
        /// "Review", "Your request", "You voted" on "Awaiting my review".
        var part: String?
    }

    var caption: String
    var rows: [Row]
    var showWorkspace: Bool
    var showRequester: Bool
    var showPart: Bool

    static func row(_ request: AirlockRequest, workspaceName: String, part: String? = nil) -> Row {
        Row(
            href: AirlockPaths.request(request.workspaceId, request.id), title: request.title, type: request.type.rawValue,
            workspaceName: workspaceName, workspaceHref: AirlockPaths.workspace(request.workspaceId),
            requester: AirlockPageText.name(request.createdBy), status: AirlockDisplay.statusText(request.status),
            statusClass: AirlockDisplay.statusClass(request.status), updated: AirlockDisplay.time(request.updatedWhen), part: part)
    }
}

/// The portal's airlock URLs (the URL map in the portal brief), with ids and file names encoded.
enum AirlockPaths {
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "-._~").union(.alphanumerics)) ?? ""
    }

    static func workspace(_ workspaceId: String) -> String { "/workspaces/\(segment(workspaceId))/airlock" }
    static func request(_ workspaceId: String, _ requestId: String) -> String { "\(workspace(workspaceId))/\(segment(requestId))" }
    static func preview(_ workspaceId: String, _ requestId: String, _ name: String) -> String {
        "\(request(workspaceId, requestId))/files/\(segment(name))/preview"
    }
    /// The API's file route: downloads (GET, with the session cookie) and the upload script's PUTs.
    static func apiFiles(_ workspaceId: String, _ requestId: String) -> String {
        "/api/workspaces/\(segment(workspaceId))/requests/\(segment(requestId))/files"
    }
    static func apiFile(_ workspaceId: String, _ requestId: String, _ name: String) -> String {
        "\(apiFiles(workspaceId, requestId))/\(segment(name))"
    }
}

enum AirlockPageText {
    static func name(_ user: User) -> String { user.name.isEmpty ? user.id : user.name }

    static func typeText(_ type: AirlockRequestType) -> String { type == .import ? "Import" : "Export" }
}

/// `/workspaces/{id}/airlock`: one workspace's requests, filtered.
struct WorkspaceAirlockView {
    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    var workspaceId: String
    var workspaceName: String
    var filterAction: String
    var table: AirlockRequestTable
    var newHref: String
    var canCreate: Bool
    /// Why "New request" is not offered to someone who could otherwise make one.
    var createRefusal: String?
    var reviewerOnly: Bool
    var statuses: [Option]
    var types: [Option]
    var filtered: Bool
}

/// `/airlock`: my requests everywhere, and what waits for my review.
struct AirlockHomeView {
    struct WorkspaceLink {
        var name: String
        var href: String
    }

    var mine: AirlockRequestTable
    var isManager: Bool
    var toReview: AirlockRequestTable
    var workspaces: [WorkspaceLink]
}

/// `/workspaces/{id}/airlock/new`, with what the user typed when it comes back with an error.
struct NewAirlockRequestView {
    var action: String
    var csrf: String
    var isImport: Bool
    var isExport: Bool
    var title: String
    var justification: String
    var typeError: String?
    var titleError: String?
    var justificationError: String?
}

/// One output check's result, as stored with the file.
struct OutputCheckView {
    var check: String
    var verdict: String
    var verdictClass: String
    var summary: String
    var parameters: String
    var findings: AirlockDisplay.FindingsTable
    var hasFindings: Bool
    var more: Int
    var hasMore: Bool

    init(_ result: OutputCheckResult) {
        check = result.check
        verdict = result.verdict.rawValue
        verdictClass = AirlockDisplay.verdictClass(result.verdict)
        summary = result.summary
        parameters = result.parameters == .object([:]) ? "" : result.parameters.description
        findings = AirlockDisplay.FindingsTable(result.findings)
        hasFindings = !result.findings.isEmpty
        more = findings.more
        hasMore = findings.more > 0
    }
}

/// One file of a request, with what the viewer may do with it.
struct AirlockFileView {
    var name: String
    var size: String
    var sha256: String
    var source: String?
    var scan: String
    var scanClass: String
    var checks: [OutputCheckView]
    var hasChecks: Bool
    var checksVerdict: String?
    var downloadHref: String?
    var previewHref: String?
    var canRemove: Bool
    var removeAction: String
    /// The id of the file's checks on the page (file names can hold spaces, so not the name).
    var anchor: String

    init(_ file: AirlockFile, index: Int, request: AirlockRequest, readable: Bool, downloadable: Bool, writable: Bool) {
        name = file.name
        anchor = "checks-\(index + 1)"
        size = AirlockDisplay.bytes(file.size)
        sha256 = file.sha256
        source = file.source
        scan = file.scanResult ?? (request.status == .draft ? "scanned after submit" : "not scanned yet")
        scanClass = AirlockDisplay.scanClass(file.scanResult)
        checks = (file.checks ?? []).map(OutputCheckView.init)
        hasChecks = !checks.isEmpty
        // The strongest verdict sums the checks up: fail > review > pass.
        let verdicts = (file.checks ?? []).map(\.verdict)
        checksVerdict = verdicts.contains(.fail) ? "fail" : verdicts.contains(.review) ? "review" : verdicts.isEmpty ? nil : "pass"
        downloadHref = downloadable ? AirlockPaths.apiFile(request.workspaceId, request.id, file.name) : nil
        previewHref = readable ? AirlockPaths.preview(request.workspaceId, request.id, file.name) : nil
        canRemove = writable
        removeAction = "\(AirlockPaths.request(request.workspaceId, request.id))/files/\(AirlockPaths.segment(file.name))/delete"
    }
}

/// `/workspaces/{id}/airlock/{rid}`.
struct AirlockRequestView {
    struct Upload {
        var name: String
        var received: String
        var removeAction: String
    }

    struct Review {
        var reviewer: String
        var decision: String
        var decisionClass: String
        var explanation: String
        var when: String
    }

    struct Change {
        var from: String
        var to: String
        var by: String
        var when: String
    }

    var csrf: String
    var base: String
    var workspaceName: String
    var workspaceHref: String
    var title: String
    var type: String
    var isImport: Bool
    var status: String
    var statusClass: String
    var statusHint: String
    var statusMessage: String?
    var requester: String
    var created: String
    var updated: String
    var justification: String
    var approvals: String?
    var exportDownloads: String?

    var files: [AirlockFileView]
    var hasFiles: Bool
    var uploads: [Upload]
    var hasUploads: Bool

    var canUpload: Bool
    var apiFiles: String
    var curlToken: String
    var uploadLink: String?
    var canPick: Bool
    var candidates: [String]
    var homePrefix: String
    var pickPath: String
    var pickName: String
    var pickError: String?

    var canSubmit: Bool
    var canCancel: Bool
    var canReview: Bool
    var reviewNote: String?
    var explanation: String
    var reviewError: String?
    var canRevoke: Bool
    /// Submit or cancel: the row of buttons.
    var hasButtons: Bool
    var reason: String
    var revokeError: String?
    var hasActions: Bool

    var reviews: [Review]
    var hasReviews: Bool
    var history: [Change]
    var hasHistory: Bool
}

/// `/workspaces/{id}/airlock/{rid}/files/{name}/preview`.
struct AirlockPreviewView {
    var back: String
    var file: AirlockFileView
    var isTable: Bool
    var columns: [String]
    var rows: [[String]]
    var isText: Bool
    var text: String
    var truncated: Bool
    var isImage: Bool
    var imageSource: String
    var reason: String?

    init(back: String, file: AirlockFileView, preview: FilePreview) {
        self.back = back
        self.file = file
        isTable = false
        columns = []
        rows = []
        isText = false
        text = ""
        truncated = false
        isImage = false
        imageSource = ""
        switch preview {
        case .table(let columns, let rows, let truncated):
            isTable = true
            self.columns = columns
            // Ragged rows are padded so every row has a cell under each heading.
            self.rows = rows.map { $0.count >= columns.count ? $0 : $0 + Array(repeating: "", count: columns.count - $0.count) }
            self.truncated = truncated
        case .text(let text, let truncated):
            isText = true
            self.text = text
            self.truncated = truncated
        case .image(let mediaType, let base64):
            // A data: URL (the CSP allows `img-src data:`): the preview call already read and audited the bytes.
            isImage = true
            imageSource = "data:\(mediaType);base64,\(base64)"
        case .none(let reason):
            self.reason = reason
        }
    }
}
