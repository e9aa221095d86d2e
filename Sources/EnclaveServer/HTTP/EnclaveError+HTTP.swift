import EnclaveCore
import Logging
public import Hummingbird
import NIOCore

/// Domain errors render as Azure TRE renders its errors: a plain-text body with the message.
extension EnclaveError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        if kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(
            status: HTTPResponse.Status(code: statusCode), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}

/// Maps every error to a response: domain errors as themselves, framework errors as plain text, and
/// anything unexpected to a bare 500 plus an error-level log line with the request id (Hummingbird
/// would log those only at debug level).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as EnclaveError {
            if error.kind == .internal {
                context.logger.error("internal error", metadata: ["error": "\(error.message)"])
            }
            return try error.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try EnclaveError.payloadTooLarge("The request body is larger than the 1 MiB limit")
                .response(from: request, context: context)
        } catch let error as HTTPError {
            let text = error.body ?? (error.status == .notFound ? "Not Found" : error.status.reasonPhrase)
            return try EnclaveError(kind(for: error.status.code), text).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try EnclaveError.internal("Unable to process request").response(from: request, context: context)
        }
    }

    func kind(for code: Int) -> EnclaveError.Kind {
        switch code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 409: .conflict
        case 413: .payloadTooLarge
        case 422: .unprocessable
        case 503: .serviceUnavailable
        default: .internal
        }
    }
}
