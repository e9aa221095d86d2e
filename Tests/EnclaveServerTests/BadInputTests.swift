import EnclaveCore
import EnclaveTesting
import Foundation
import Hummingbird
import Testing

/// Bad input gets a clear error and changes nothing (issue "Bad input": a test for each).
@Suite("Bad input")
struct BadInputTests {
    let admin = TestUsers.admin

    /// No workspace, operation or history may exist after a refused request.
    func expectNothingCreated(_ api: APIClient) async throws {
        let list = try await api.call(.get, "/api/workspaces", as: admin).json["workspaces"]?.arrayValue
        #expect(list?.isEmpty == true, "a refused request left a workspace behind")
        #expect(try await api.call(.get, "/api/operations", as: admin).json["operations"]?.arrayValue?.isEmpty == true)
    }

    @Test("malformed JSON is 422")
    func malformedJSON() async throws {
        try await withAPI { api in
            let reply = try await api.call(.post, "/api/workspaces", as: admin, raw: "{\"templateName\": ")
            #expect(reply.status == .unprocessableContent)
            #expect(reply.text == "The request body is not valid JSON")
            try await expectNothingCreated(api)
        }
    }

    @Test("a body of the wrong shape is 422 naming the field")
    func wrongShape() async throws {
        try await withAPI { api in
            let reply = try await api.call(.post, "/api/workspaces", as: admin, json: ["properties": [:]])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.text.contains("templateName"))
            try await expectNothingCreated(api)
        }
    }

    @Test("a body over 1 MiB is 413")
    func oversizeBody() async throws {
        try await withAPI { api in
            let big = String(repeating: "x", count: 1024 * 1024 + 10)
            let reply = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-workspace-base", "properties": ["display_name": .string(big), "description": "d"]])
            #expect(reply.status == .contentTooLarge)
            try await expectNothingCreated(api)
        }
    }

    @Test("an unknown template is 400 pointing at the template list")
    func unknownTemplate() async throws {
        try await withAPI { api in
            let reply = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "no-such-template", "properties": ["display_name": "x", "description": "y"]])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains("no-such-template") && reply.text.contains("/api/workspace-templates"))
            try await expectNothingCreated(api)
        }
    }

    @Test("a property failing its schema, or unknown to it, is 400 naming the property and rule")
    func schemaViolations() async throws {
        try await withAPI { api in
            let wrongEnum = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "x", "description": "y", "size": "huge"]])
            #expect(wrongEnum.status == .badRequest)
            #expect(wrongEnum.text.contains("size") && wrongEnum.text.contains("enum"))
            let unknown = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-test-workspace", "properties": ["display_name": "x", "description": "y", "colour": "red"]])
            #expect(unknown.status == .badRequest)
            #expect(unknown.text.contains("colour"))
            let missing = try await api.call(
                .post, "/api/workspaces", as: admin, json: ["templateName": "tre-test-workspace", "properties": ["display_name": "x"]])
            #expect(missing.status == .badRequest)
            #expect(missing.text.contains("description") && missing.text.contains("required"))
            try await expectNothingCreated(api)
        }
    }

    @Test("a non-UUID id is 422")
    func nonUUID() async throws {
        try await withAPI { api in
            let reply = try await api.call(.get, "/api/workspaces/not-a-uuid", as: admin)
            #expect(reply.status == .unprocessableContent)
            #expect(reply.text.contains("not-a-uuid"))
            let missing = try await api.call(.get, "/api/workspaces/\(UUID().uuidString)", as: admin)
            #expect(missing.status == .notFound)
        }
    }

    @Test("registering a template whose schema uses an unsupported keyword is 400 naming it; nothing is registered")
    func unsupportedKeyword() async throws {
        try await withAPI { api in
            let reply = try await api.call(
                .post, "/api/workspace-templates", as: admin,
                json: [
                    "name": "bad-template", "version": "1.0.0", "current": true,
                    "json_schema": [
                        "title": "Bad", "description": "d", "required": [],
                        "properties": ["x": ["oneOf": [["type": "string"], ["type": "integer"]]]],
                    ],
                ])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains("oneOf") && reply.text.contains("/properties/x"))
            #expect(try await api.call(.get, "/api/workspace-templates/bad-template", as: admin).status == .notFound)
        }
    }
}
