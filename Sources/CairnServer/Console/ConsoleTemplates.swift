import Mustache

/// The console's pages as Mustache templates: a layout around each page's body. `{{x}}` is HTML-escaped;
/// `{{{x}}}` is used only for markup the console made itself (the page body, the chart).
struct ConsoleTemplates: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Self.pages { try library.register(text, named: name) }
        self.library = library
    }

    /// A whole page: `page`'s template rendered with `values`, inside the layout.
    func render(_ page: String, title: String, values: [String: Any], session: ConsoleSessions.Session?) -> String {
        let body = library.render(values, withTemplate: page) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let session {
            layout["session"] = ["formToken": session.formToken, "administers": session.administers]
        }
        if let message = values["message"] { layout["message"] = message }
        return library.render(layout, withTemplate: "layout") ?? body
    }

    static let pages: [(String, String)] = [
        ("layout", layout), ("login", login), ("overview", overview), ("buckets", buckets), ("objects", objects),
        ("namespaces", namespaces), ("builds", builds), ("retention", retention), ("tokens", tokens),
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Cairn</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
        nav { background: #243447; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; }
        nav a { color: #fff; text-decoration: none; }
        nav form { margin-left: auto; }
        main { padding: 1rem; max-width: 60rem; margin: 0 auto; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; overflow-wrap: anywhere; }
        th { overflow-wrap: normal; }
        button { white-space: nowrap; }
        td.number, th.number { text-align: right; overflow-wrap: normal; white-space: nowrap; }
        .chart { width: 100%; max-width: 600px; height: auto; }
        .message { background: #fff3cd; padding: .5rem; }
        .secret { display: block; font-family: monospace; background: #e8f5e9; padding: .5rem; overflow-wrap: anywhere; }
        form.inline { display: inline; }
        label { display: block; margin: .5rem 0; }
        input[type=text], input[type=password], input:not([type]) { width: 100%; max-width: 24rem; box-sizing: border-box; }
        meter { width: 100%; max-width: 24rem; }
        </style>
        </head>
        <body>
        {{#session}}
        <nav>
        <a href="/_cairn/ui/">Overview</a>
        <a href="/_cairn/ui/buckets">Buckets</a>
        <a href="/_cairn/ui/namespaces">Cache</a>
        <a href="/_cairn/ui/builds">Builds</a>
        <a href="/_cairn/ui/retention">Retention</a>
        {{#administers}}<a href="/_cairn/ui/tokens">Tokens</a>{{/administers}}
        <form method="post" action="/_cairn/ui/logout"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Log out</button></form>
        </nav>
        {{/session}}
        <main>
        <h1>{{title}}</h1>
        {{#message}}<p class="message" id="message">{{message}}</p>{{/message}}
        {{{body}}}
        </main>
        </body>
        </html>
        """

    static let login = """
        <form method="post" action="/_cairn/ui/login" id="login">
        <label>Access key id (any name with a token) <input name="access_key_id" autocomplete="username" required></label>
        <label>Secret access key, or a token with the console or admin scope <input name="secret_access_key" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button>
        </form>
        """

    static let overview = """
        <h2>Cache hit rate</h2>
        <p>Per minute over the last hour:</p>
        {{{hourChart}}}
        <p>Over the last day, in ten-minute steps:</p>
        {{{dayChart}}}
        <div class="scroll"><table id="hit-rates">
        <tr><th>Protocol</th><th class="number">Hits</th><th class="number">Misses</th><th class="number">Hit rate</th></tr>
        {{#protocols}}<tr data-protocol="{{name}}"><td>{{name}}</td><td class="number hits">{{hits}}</td><td class="number misses">{{misses}}</td><td class="number">{{rate}}</td></tr>{{/protocols}}
        {{^protocols}}<tr><td colspan="4">No cache lookups since the server started.</td></tr>{{/protocols}}
        </table></div>
        <h2>Storage</h2>
        <div class="scroll"><table id="storage">
        <tr><th>Stored (as clients see it)</th><td class="number" id="logical-bytes">{{logical}}</td></tr>
        <tr><th>On disk (each blob once)</th><td class="number" id="physical-bytes">{{physical}}</td></tr>
        <tr><th>Objects / cache entries / blobs</th><td class="number">{{objects}} / {{entries}} / {{blobs}}</td></tr>
        <tr><th>Limit (retention.max_total_bytes)</th><td class="number">{{limit}}</td></tr>
        <tr><th>Free on the data directory's disk</th><td class="number">{{free}}</td></tr>
        </table></div>
        {{#limitFraction}}<meter min="0" max="1" value="{{limitFraction}}">{{limitPercent}}</meter> {{limitPercent}} of the limit{{/limitFraction}}
        <h2>Last retention run</h2>
        {{#lastRetention}}<p id="last-retention">{{endedAt}}: {{summary}}</p>{{/lastRetention}}
        {{^lastRetention}}<p id="last-retention">No retention run since the server started.</p>{{/lastRetention}}
        """

    static let buckets = """
        <div class="scroll"><table id="buckets">
        <tr><th>Bucket</th><th>Created</th></tr>
        {{#buckets}}<tr><td><a href="/_cairn/ui/objects?bucket={{query}}">{{name}}</a></td><td>{{created}}</td></tr>{{/buckets}}
        {{^buckets}}<tr><td colspan="2">No buckets.</td></tr>{{/buckets}}
        </table></div>
        """

    static let objects = """
        <p><a href="/_cairn/ui/buckets">Buckets</a> / <a href="/_cairn/ui/objects?bucket={{bucketQuery}}">{{bucket}}</a>{{#prefix}} / {{prefix}}{{/prefix}}</p>
        <form method="get" action="/_cairn/ui/objects"><input type="hidden" name="bucket" value="{{bucket}}">
        <label>Prefix <input name="prefix" value="{{prefix}}"></label><button type="submit">Browse</button></form>
        <div class="scroll"><table id="objects">
        <tr><th>Key</th><th class="number">Size</th><th>Created</th><th></th></tr>
        {{#folders}}<tr><td><a href="/_cairn/ui/objects?bucket={{bucketQuery}}&amp;prefix={{query}}">{{name}}</a></td><td></td><td></td><td></td></tr>{{/folders}}
        {{#objects}}<tr><td><a class="download" href="/_cairn/ui/download?bucket={{bucketQuery}}&amp;key={{query}}">{{key}}</a></td><td class="number">{{size}}</td><td>{{accessed}}</td>
        <td>{{#administers}}<form method="post" action="/_cairn/ui/delete" class="inline"><input type="hidden" name="form_token" value="{{formToken}}"><input type="hidden" name="bucket" value="{{bucket}}"><input type="hidden" name="key" value="{{key}}"><input type="hidden" name="prefix" value="{{prefix}}"><button type="submit">Delete</button></form>{{/administers}}</td></tr>{{/objects}}
        {{^any}}<tr><td colspan="4">Nothing under this prefix.</td></tr>{{/any}}
        </table></div>
        {{#more}}<p>Only the first {{pageSize}} are shown; narrow the prefix.</p>{{/more}}
        """

    static let namespaces = """
        <div class="scroll"><table id="namespaces">
        <tr><th>Namespace</th><th class="number">Entries</th><th class="number">Bytes</th><th class="number">Held only here</th><th class="number">Hits / misses</th><th class="number">Hit rate</th></tr>
        {{#namespaces}}<tr><td>{{name}}</td><td class="number">{{entries}}</td><td class="number">{{logical}}</td><td class="number">{{unique}}</td><td class="number">{{hits}} / {{misses}}</td><td class="number">{{rate}}</td></tr>{{/namespaces}}
        {{^namespaces}}<tr><td colspan="6">No cache entries.</td></tr>{{/namespaces}}
        </table></div>
        <p>“Held only here” counts the bytes of blobs that no other namespace's entries and no object name: what deleting the namespace would free.</p>
        """

    static let builds = """
        {{#builds}}
        <h2>{{project}} #{{buildNumber}}: {{result}}</h2>
        <p>{{started}}, {{duration}} s; restoring saved {{saved}} s.</p>
        <div class="scroll"><table class="phases">
        <tr><th>Phase</th><th>Outcome</th><th class="number">Duration</th><th class="number">Saved</th><th>Why it ran</th></tr>
        {{#phases}}<tr><td>{{name}}</td><td>{{outcome}}</td><td class="number">{{duration}}</td><td class="number">{{saved}}</td><td>{{reasons}}</td></tr>{{/phases}}
        </table></div>
        {{/builds}}
        {{^builds}}<p>No build has reported to this server since it started (<code>cairn build --store URL</code> reports when it ends).</p>{{/builds}}
        """

    static let retention = """
        <h2>Rules in force</h2>
        <div class="scroll"><table id="rules">
        {{#rules}}<tr><th>{{name}}</th><td>{{value}}</td></tr>{{/rules}}
        </table></div>
        <form method="post" action="/_cairn/ui/retention"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Show what the next run would remove</button></form>
        {{#dryRun}}
        <h2>Dry run</h2>
        <p id="dry-run">{{summary}}</p>
        <div class="scroll"><table>{{#rulesHit}}<tr><th>{{rule}}</th><td class="number">{{count}}</td></tr>{{/rulesHit}}</table></div>
        {{/dryRun}}
        """

    static let tokens = """
        {{#created}}<p>New token (shown only once): <span class="secret" id="new-token">{{created}}</span></p>{{/created}}
        <div class="scroll"><table id="tokens">
        <tr><th>Id</th><th>Namespace</th><th>Access</th><th>Scopes</th><th>Created</th><th></th></tr>
        {{#tokens}}<tr data-token="{{id}}"><td>{{id}}</td><td>{{namespace}}</td><td>{{access}}</td><td class="scopes">{{scopes}}</td><td>{{created}}</td>
        <td><form method="post" action="/_cairn/ui/tokens/revoke" class="inline"><input type="hidden" name="form_token" value="{{formToken}}"><input type="hidden" name="id" value="{{id}}"><button type="submit">Revoke</button></form></td></tr>{{/tokens}}
        {{^tokens}}<tr><td colspan="6">No tokens.</td></tr>{{/tokens}}
        </table></div>
        <h2>Create a token</h2>
        <form method="post" action="/_cairn/ui/tokens" id="create-token"><input type="hidden" name="form_token" value="{{formToken}}">
        <label>Namespace (* for every one) <input name="namespace" required></label>
        <label><input type="checkbox" name="read_only" value="1"> Read-only (cache reads only, never writes)</label>
        <fieldset><legend>Scopes</legend>
        <label><input type="checkbox" name="scope_cache" value="1" checked> cache: the build-cache protocols and <code>cairn build</code>, in the namespace</label>
        <label><input type="checkbox" name="scope_metrics" value="1"> metrics: scrape <code>/_cairn/metrics</code></label>
        <label><input type="checkbox" name="scope_console" value="1"> console: read every page of this console (namespace * only)</label>
        <label><input type="checkbox" name="scope_admin" value="1"> admin: also delete objects, manage tokens, run retention (namespace * only)</label>
        </fieldset>
        <button type="submit">Create</button></form>
        """
}
