/* routes_test.c: the route table and the --routes file (src/collect/routes.c,
 * format in docs/routes.md). */
#include <string.h>

#include "check.h"
#include "collect/collect.h"

static void test_defaults_are_the_reference_app_routes(void)
{
    struct collect_routes rt;
    collect_routes_init(&rt);
    struct collect_route *r = collect_routes_find(&rt, sl_slice_str("/"));
    CHECK(r && r->kind == COLLECT_ROUTE_EVENT);
    CHECK_STR(r->event_type, "default");
    CHECK_STR(r->reply, "This is the default response!\n");
    r = collect_routes_find(&rt, sl_slice_str("/purchase_a_sword"));
    CHECK(r != NULL);
    CHECK_STR(r->event_type, "purchase_sword");
    CHECK_STR(r->reply, "Sword Purchased!\n");
    CHECK_STR(r->content_type, "text/html; charset=utf-8");
    CHECK(collect_routes_find(&rt, sl_slice_str("/events"))->kind == COLLECT_ROUTE_BATCH);
    CHECK(collect_routes_find(&rt, sl_slice_str("/healthz"))->kind == COLLECT_ROUTE_HEALTH);
    CHECK(collect_routes_find(&rt, sl_slice_str("/metrics"))->kind == COLLECT_ROUTE_METRICS);
    CHECK(collect_routes_find(&rt, sl_slice_str("/purchase_a_sword/")) == NULL);
    collect_routes_release(&rt);
}

static void test_find_decodes_percent_and_ignores_fragment(void)
{
    struct collect_routes rt;
    collect_routes_init(&rt);
    CHECK(collect_routes_find(&rt, sl_slice_str("/purchase%5Fa%5fsword")) != NULL);
    CHECK(collect_routes_find(&rt, sl_slice_str("/purchase_a_sword#top")) != NULL);
    CHECK(collect_routes_find(&rt, sl_slice_str("/purchase%5")) == NULL);
    CHECK(collect_routes_find(&rt, sl_slice_str("/%zz")) == NULL);
    collect_routes_release(&rt);
}

static void test_file_fields_render_like_json_dumps(void)
{
    struct collect_routes rt;
    collect_routes_init(&rt);
    struct sl_error err = { 0 };
    const char *file =
        "# comment line\n"
        "  # indented comment\n"
        "{\"path\": \"/purchase_a_knife\", \"event_type\": \"purchase_knife\",\n"
        " \"fields\": {\"description\": \"very sharp knife\", \"n\": 1.5, \"ok\": true,\n"
        "   \"x\": null, \"l\": [1,{\"a\":\"\\u00e9\\ud83d\\ude00\"}], \"d\": 1, \"d\": 2},\n"
        " \"reply\": \"Knife Purchased!\\n\", \"status\": 201, \"content_type\": \"text/plain\"}\n"
        "{\"path\": \"/\", \"event_type\": \"home\"}\n";
    CHECK_INT(collect_routes_parse(&rt, sl_slice_str(file), "routes.json", &err), SL_OK);
    struct collect_route *r = collect_routes_find(&rt, sl_slice_str("/purchase_a_knife"));
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_STR(r->event_type, "purchase_knife");
    CHECK_INT(r->nfields, 6);
    CHECK_STR(r->field_json[0], "\"description\": \"very sharp knife\"");
    CHECK_STR(r->field_json[1], "\"n\": 1.5");
    CHECK_STR(r->field_json[4], "\"l\": [1, {\"a\": \"\\u00e9\\ud83d\\ude00\"}]");
    CHECK_STR(r->field_json[5], "\"d\": 2");
    CHECK_STR(r->reply, "Knife Purchased!\n");
    CHECK_INT(r->status, 201);
    CHECK_STR(r->content_type, "text/plain");
    /* "/" is replaced, not added twice */
    CHECK_STR(collect_routes_find(&rt, sl_slice_str("/"))->event_type, "home");
    size_t slash = 0;
    for (size_t i = 0; i < rt.n; i++)
        slash += strcmp(rt.routes[i].path, "/") == 0;
    CHECK_INT(slash, 1);
    collect_routes_release(&rt);
}

static void test_file_errors_name_the_line_and_change_nothing(void)
{
    static const char *bad[][2] = {
        { "{\"path\": \"/a\", \"event_type\": \"a\"}\n{\"path\": \"/b\", \"feilds\": {}}",
          "t.json:2: unknown route key \"feilds\"" },
        { "{\"path\": \"b\", \"event_type\": \"a\"}", "t.json:1: \"path\"" },
        { "{\"path\": \"/b\"}", "t.json:1: \"event_type\" is required" },
        { "{\"path\": \"/b\", \"event_type\": \"a\", \"fields\": {\"event_type\": 1}}",
          "t.json:1: \"fields\" may not set" },
        { "{\"path\": \"/b\", \"event_type\": \"a\", \"status\": 99}", "t.json:1: \"status\"" },
        { "\n\n{\"path\": \"/b\",, }", "t.json: line 3" },
        { "[1]", "t.json:1: a route must be a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct collect_routes rt;
        collect_routes_init(&rt);
        size_t before = rt.n;
        struct sl_error err = { 0 };
        CHECK(collect_routes_parse(&rt, sl_slice_str(bad[i][0]), "t.json", &err) != SL_OK);
        if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
            CHECK_STR(err.msg, bad[i][1]);
        CHECK_INT(rt.n, before);
        CHECK(collect_routes_find(&rt, sl_slice_str("/a")) == NULL);
        collect_routes_release(&rt);
    }
}

static void test_load_missing_file_is_eio(void)
{
    struct collect_routes rt;
    collect_routes_init(&rt);
    struct sl_error err = { 0 };
    CHECK_INT(collect_routes_load(&rt, "/nonexistent/routes.json", &err), SL_EIO);
    CHECK(strstr(err.msg, "cannot open routes file '/nonexistent/routes.json'") != NULL);
    collect_routes_release(&rt);
}

int main(void)
{
    RUN(test_defaults_are_the_reference_app_routes);
    RUN(test_find_decodes_percent_and_ignores_fragment);
    RUN(test_file_fields_render_like_json_dumps);
    RUN(test_file_errors_name_the_line_and_change_nothing);
    RUN(test_load_missing_file_is_eio);
    return CHECK_DONE();
}
