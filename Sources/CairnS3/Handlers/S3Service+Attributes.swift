import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

extension S3Service {
    /// GetObjectAttributes (`GET ?attributes`): what `x-amz-object-attributes` asks for of ETag, Checksum,
    /// ObjectParts, StorageClass and ObjectSize, without the body. A multipart object's parts are listed by number
    /// and size, a page of `x-amz-max-parts` after `x-amz-part-number-marker`.
    func getObjectAttributes(_ s3: S3Request, bucket: String, key: String) async throws -> Response {
        let known = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
        let asked = Set(
            (s3.header("x-amz-object-attributes") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
        guard !asked.isEmpty else {
            throw S3Error.invalidArgument("x-amz-object-attributes must name at least one attribute")
        }
        if let unknown = asked.first(where: { !known.contains($0) }) {
            throw S3Error.invalidArgument("Invalid attribute name specified: \(unknown)")
        }
        let object = try await readableObject(s3, bucket: bucket, key: key)
        let maxParts = Int(s3.header("x-amz-max-parts") ?? "") ?? 1000
        let marker = Int(s3.header("x-amz-part-number-marker") ?? "") ?? 0
        let xml = XMLWriter()
        xml.element("GetObjectAttributesResponse", namespace: true) {
            if asked.contains("ETag") { xml.element("ETag", object.etag) }
            if asked.contains("Checksum"), let checksum = object.checksum {
                xml.element("Checksum") {
                    xml.element("Checksum\(checksum.algorithm.rawValue)", checksum.value)
                    xml.element("ChecksumType", checksum.value.contains("-") ? "COMPOSITE" : "FULL_OBJECT")
                }
            }
            if asked.contains("ObjectParts"), let count = object.partCount, count == object.segments.count {
                let numbered = object.segments.enumerated().map { (number: $0.offset + 1, size: $0.element.size) }
                let after = numbered.filter { $0.number > marker }
                let page = after.prefix(max(0, min(maxParts, 1000)))
                xml.element("ObjectParts") {
                    xml.element("PartsCount", String(count))
                    xml.element("PartNumberMarker", String(marker))
                    if let last = page.last { xml.element("NextPartNumberMarker", String(last.number)) }
                    xml.element("MaxParts", String(maxParts))
                    xml.element("IsTruncated", after.count > page.count ? "true" : "false")
                    for part in page {
                        xml.element("Part") {
                            xml.element("PartNumber", String(part.number))
                            xml.element("Size", String(part.size))
                        }
                    }
                }
            }
            if asked.contains("StorageClass") { xml.element("StorageClass", "STANDARD") }
            if asked.contains("ObjectSize") { xml.element("ObjectSize", String(object.size)) }
        }
        var headers = HTTPFields()
        headers[.lastModified] = S3Format.httpDate(object.createdAt)
        return xmlResponse(xml, headers: headers)
    }
}
