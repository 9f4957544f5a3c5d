/// How both metadata stores page through keys, for ListObjects and ListObjectVersions: rows are read in key order
/// (each key's versions newest first) from a position, keys that contain the delimiter after the prefix become one
/// common prefix (and the scan jumps past all of its keys), and the page stops at `maxKeys` entries. A store only
/// reads the rows at ``position`` in its own SQL; what is listed and where the next page starts is decided here.
///
/// `Item` is what a store reads with each key (nothing, a whole object, or a version id and its ordinal); the
/// entries name items, and the store turns them into objects or versions once the scan is done.
struct ListingScan<Item> {
    /// Where the scan reads next: keys from `lower` (inclusive), less the versions of `skipped.key` at or above
    /// `skipped.ordinal` (those already listed, for a version listing that stopped inside a key).
    struct Position {
        var lower: [UInt8]
        var skipped: (key: [UInt8], ordinal: Int64)?
    }

    enum Entry {
        case commonPrefix(String)
        case item(key: String, Item)
    }

    /// Rows a store reads at a time.
    static var batchSize: Int { 1000 }

    let prefix: [UInt8]
    /// The first key past every key under the prefix; nil when there is none.
    let upper: [UInt8]?
    let delimiter: [UInt8]?
    let maxKeys: Int
    private(set) var position: Position
    private(set) var entries: [Entry] = []
    /// The last key or common prefix listed, and the item of that key (nil after a common prefix).
    private(set) var last: (name: String, item: Item?)?
    /// True once no row is left past ``position``.
    private(set) var exhausted = false

    /// A scan of the keys under `prefix` from `lowerBound` (inclusive, raw key bytes; the prefix when earlier).
    init(prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int) {
        self.prefix = Array(prefix.utf8)
        self.upper = ObjectListing.successor(ofPrefix: self.prefix)
        self.delimiter = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.maxKeys = maxKeys
        var lower = self.prefix
        if let lowerBound, lower.lexicographicallyPrecedes(lowerBound) { lower = lowerBound }
        self.position = Position(lower: lower)
    }

    /// A scan of versions that resumes after `keyMarker`: after all of its versions, or, with `markerOrdinal` (the
    /// ordinal of S3's version id marker, which the store looked up), after that version of it. A key marker
    /// inside a common prefix (a page that ended on the prefix) resumes past the whole prefix.
    init(prefix: String, delimiter: String?, keyMarker: String?, markerOrdinal: Int64?, maxKeys: Int) {
        self.init(prefix: prefix, delimiter: delimiter, from: nil, maxKeys: maxKeys)
        guard let keyMarker, !keyMarker.isEmpty else { return }
        let marker = Array(keyMarker.utf8)
        if let markerOrdinal {
            position.skipped = (marker, markerOrdinal)
            if self.prefix.lexicographicallyPrecedes(marker) { position.lower = marker }
            return
        }
        var next = marker + [0]
        if let delimiter = self.delimiter, marker.starts(with: self.prefix),
            let range = Self.firstRange(of: delimiter, in: marker[self.prefix.count...])
        {
            next = ObjectListing.successor(ofPrefix: Array(marker[..<range.upperBound])) ?? next
        }
        if self.prefix.lexicographicallyPrecedes(next) { position.lower = next }
    }

    /// True when the page is full or nothing is left: no more rows to read.
    var isComplete: Bool { exhausted || entries.count >= maxKeys }

    /// Whether a page that is complete may have a next one: the store then asks whether any row is left at
    /// ``position``.
    var mayHaveMore: Bool { !exhausted && entries.count >= maxKeys }

    /// Takes the rows a store read at ``position`` (at most ``batchSize``, in order). `positionAfter` says where the
    /// scan goes on after a listed row: past its key (`key + [0]`), or past this version of it.
    mutating func take(_ rows: [(key: [UInt8], item: Item)], positionAfter: ([UInt8], Item) -> Position) {
        if rows.isEmpty {
            exhausted = true
            return
        }
        for (key, item) in rows {
            if entries.count >= maxKeys { return }
            if let delimiter, let range = Self.firstRange(of: delimiter, in: key[prefix.count...]) {
                let common = Array(key[..<range.upperBound])
                let name = String(decoding: common, as: UTF8.self)
                entries.append(.commonPrefix(name))
                last = (name, nil)
                guard let next = ObjectListing.successor(ofPrefix: common) else {
                    exhausted = true
                    return
                }
                // The rest of this batch is under the prefix or past it: read again from past the prefix.
                position = Position(lower: next)
                return
            }
            let name = String(decoding: key, as: UTF8.self)
            entries.append(.item(key: name, item))
            last = (name, item)
            position = positionAfter(key, item)
        }
        if rows.count < Self.batchSize { exhausted = true }
    }

    /// Where `needle` first occurs in `haystack`.
    static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return index..<index + needle.count }
            index += 1
        }
        return nil
    }
}

/// The scan of a version listing: each row is a version of its key, with the key's order of versions (`ordinal`;
/// the current object's above every other).
typealias VersionScan = ListingScan<(versionID: String, ordinal: Int64)>
