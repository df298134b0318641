/*
 * The XML bodies of S3 answers, read with libxml2: ListBucketResult,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult and Error.
 *
 * The bytes come from the network, so the parser gets no network access
 * (XML_PARSE_NONET), no entity substitution beyond XML's predefined and
 * numeric ones, and a document with a DTD is refused outright: S3 never
 * sends one, and refusing it keeps entity expansion ("billion laughs") and
 * external entities out entirely. Elements are matched by local name, so
 * the S3 namespace (or none, as some compatible stores answer) both work.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "io/s3_int.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
}

/* The parsed document, or NULL (bad XML, too big, a DTD, no root). */
static xmlDocPtr
parse(const char *body, size_t len)
{
    pthread_once(&xml_once, xml_init);
    if (body == NULL || len == 0 || len > INT_MAX) {
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(body, (int)len, "s3.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (doc == NULL) {
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL ||
        xmlDocGetRootElement(doc) == NULL) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static bool
named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

/* The first child element of n called name, or NULL. */
static xmlNodePtr
child(const xmlNode *n, const char *name)
{
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (named(c, name)) {
            return c;
        }
    }
    return NULL;
}

/* The text of n (xmlFree it), or NULL when out of memory. */
static char *
text_of(const xmlNode *n)
{
    return (char *)xmlNodeGetContent(n);
}

/* Copies the text of child `name` of n into buf[size] (cut to fit; ""
 * when absent). */
static void
copy_child(const xmlNode *n, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    xmlNodePtr c = child(n, name);
    if (c == NULL) {
        return;
    }
    char *t = text_of(c);
    if (t != NULL) {
        snprintf(buf, size, "%s", t);
        xmlFree(t);
    }
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    /* S3 writes plain decimal; surrounding white space is tolerated. */
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    if (*s < '0' || *s > '9') {
        return false;
    }
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    *out = v;
    return *s == '\0';
}

bool
lh__s3_etag_norm(const char *s, size_t n, char etag[LH_IO_ETAG_MAX])
{
    while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n')) {
        n--;
    }
    bool quoted = n >= 2 && s[0] == '"' && s[n - 1] == '"';
    size_t need = quoted ? n : n + 2;
    if (n == 0 || (quoted && n == 2) || need >= LH_IO_ETAG_MAX ||
        memchr(s, '\0', n) != NULL) {
        etag[0] = '\0';
        return false;
    }
    if (quoted) {
        memcpy(etag, s, n);
    } else {
        etag[0] = '"';
        memcpy(etag + 1, s, n);
        etag[n + 1] = '"';
    }
    etag[need] = '\0';
    return true;
}

static lh_rc
malformed(lh_err *err, const char *what)
{
    return lh_err_set(err, LH_EIO,
                      "malformed %s response from the object "
                      "store",
                      what);
}

lh_rc
lh__s3_xml_error(const char *body, size_t len, lh__s3_error *e)
{
    e->code[0] = '\0';
    e->message[0] = '\0';
    xmlDocPtr doc = parse(body, len);
    if (doc == NULL) {
        return LH_EIO;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    lh_rc rc = LH_EIO;
    if (named(root, "Error")) {
        copy_child(root, "Code", e->code, sizeof(e->code));
        copy_child(root, "Message", e->message, sizeof(e->message));
        rc = LH_OK;
    }
    xmlFreeDoc(doc);
    return rc;
}

/* One <Contents> into e; LH_EIO when its Key or Size is missing or bad. */
static lh_rc
list_entry(const xmlNode *c, lh_arena *a, lh_io_entry *e, lh_err *err)
{
    xmlNodePtr k = child(c, "Key");
    xmlNodePtr sz = child(c, "Size");
    if (k == NULL || sz == NULL) {
        return malformed(err, "list (an entry without key or size)");
    }
    char *key = text_of(k);
    char *size = text_of(sz);
    lh_rc rc = LH_OK;
    if (key == NULL || size == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
    } else if (key[0] == '\0' || !parse_u64(size, &e->size)) {
        rc = malformed(err, "list (an empty key or a bad size)");
    } else {
        e->key = lh_arena_strdup(a, key);
        if (e->key == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
        }
    }
    e->etag[0] = '\0';
    xmlNodePtr t = rc == LH_OK ? child(c, "ETag") : NULL;
    if (t != NULL) {
        char *etag = text_of(t);
        if (etag != NULL) {
            lh__s3_etag_norm(etag, strlen(etag), e->etag);
            xmlFree(etag);
        }
    }
    xmlFree(key);
    xmlFree(size);
    return rc;
}

lh_rc
lh__s3_xml_list(const char *body, size_t len, lh_arena *a, lh__s3_listing *out,
                lh_err *err)
{
    memset(out, 0, sizeof(*out));
    xmlDocPtr doc = parse(body, len);
    if (doc == NULL) {
        return malformed(err, "list");
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    lh_rc rc = LH_OK;
    if (!named(root, "ListBucketResult")) {
        rc = malformed(err, "list (not a ListBucketResult)");
        goto done;
    }
    size_t n = 0;
    for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
        n += named(c, "Contents");
    }
    out->entries = lh_arena_calloc(a, n * sizeof(*out->entries));
    if (out->entries == NULL) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
        goto done;
    }
    for (xmlNodePtr c = root->children; c != NULL && rc == LH_OK; c = c->next) {
        if (named(c, "Contents")) {
            rc = list_entry(c, a, &out->entries[out->count], err);
            out->count += rc == LH_OK;
        }
    }
    xmlNodePtr t = rc == LH_OK ? child(root, "IsTruncated") : NULL;
    if (t != NULL) {
        char *v = text_of(t);
        out->truncated = v != NULL && strcmp(v, "true") == 0;
        xmlFree(v);
    }
    xmlNodePtr tok = rc == LH_OK ? child(root, "NextContinuationToken") : NULL;
    if (tok != NULL) {
        char *v = text_of(tok);
        if (v != NULL && v[0] != '\0') {
            out->next_token = lh_arena_strdup(a, v);
            if (out->next_token == NULL) {
                rc =
                    lh_err_set(err, LH_ENOMEM, "out of memory listing objects");
            }
        }
        xmlFree(v);
    }
    if (rc == LH_OK && out->truncated && out->next_token == NULL) {
        rc = malformed(err, "list (truncated without a continuation token)");
    }
done:
    if (rc != LH_OK) {
        memset(out, 0, sizeof(*out));
    }
    xmlFreeDoc(doc);
    return rc;
}

lh_rc
lh__s3_xml_initiate(const char *body, size_t len, char **upload_id, lh_err *err)
{
    *upload_id = NULL;
    xmlDocPtr doc = parse(body, len);
    if (doc == NULL) {
        return malformed(err, "initiate multipart upload");
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr id = named(root, "InitiateMultipartUploadResult")
                        ? child(root, "UploadId")
                        : NULL;
    lh_rc rc = LH_OK;
    char *v = id != NULL ? text_of(id) : NULL;
    if (v == NULL || v[0] == '\0') {
        rc = malformed(err, "initiate multipart upload (no upload id)");
    } else {
        *upload_id = lh_strdup(v);
        if (*upload_id == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory starting upload");
        }
    }
    xmlFree(v);
    xmlFreeDoc(doc);
    return rc;
}

lh_rc
lh__s3_xml_complete(const char *body, size_t len, char etag[LH_IO_ETAG_MAX],
                    bool *is_error, lh__s3_error *e, lh_err *err)
{
    etag[0] = '\0';
    *is_error = false;
    xmlDocPtr doc = parse(body, len);
    if (doc == NULL) {
        return malformed(err, "complete multipart upload");
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    lh_rc rc = LH_OK;
    if (named(root, "Error")) {
        *is_error = true;
        copy_child(root, "Code", e->code, sizeof(e->code));
        copy_child(root, "Message", e->message, sizeof(e->message));
    } else {
        xmlNodePtr t = named(root, "CompleteMultipartUploadResult")
                           ? child(root, "ETag")
                           : NULL;
        char *v = t != NULL ? text_of(t) : NULL;
        if (v == NULL || !lh__s3_etag_norm(v, strlen(v), etag)) {
            rc = malformed(err, "complete multipart upload (no etag)");
        }
        xmlFree(v);
    }
    xmlFreeDoc(doc);
    return rc;
}
