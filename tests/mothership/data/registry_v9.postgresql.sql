-- A registry at schema version 9 on PostgreSQL 15, as the MotherShip of that version left it
-- (registry_migration_test.cpp): the same devices as registry_v9.sqlite.sql, made the same way
-- at commit b88356f, then `pg_dump --no-owner --no-privileges` (its \restrict lines left out).
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: attempt_limits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attempt_limits (
    subject text NOT NULL,
    failures bigint NOT NULL,
    window_start bigint NOT NULL,
    locked_until bigint NOT NULL
);


--
-- Name: audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit (
    id bigint NOT NULL,
    at bigint NOT NULL,
    devid bigint,
    event text NOT NULL,
    client text NOT NULL,
    detail text NOT NULL
);


--
-- Name: audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_id_seq OWNED BY public.audit.id;


--
-- Name: boxes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.boxes (
    box bigint NOT NULL,
    lot text NOT NULL,
    first_id bigint NOT NULL,
    last_id bigint NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    devid bigint NOT NULL,
    urn text NOT NULL COLLATE pg_catalog."C",
    fingerprint text NOT NULL,
    otp_hash text NOT NULL,
    lot text NOT NULL,
    box bigint,
    station text NOT NULL,
    record_id text NOT NULL COLLATE pg_catalog."C",
    record_digest text NOT NULL,
    signature text NOT NULL,
    firmware_sha256 text NOT NULL,
    created text NOT NULL,
    state text NOT NULL,
    cip text,
    cport integer,
    cfingerprint text,
    description text DEFAULT ''::text NOT NULL,
    inserted_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    failures bigint DEFAULT 0 NOT NULL,
    mcu_uid text COLLATE pg_catalog."C",
    revoked_at bigint DEFAULT 0 NOT NULL,
    revoked_by text DEFAULT ''::text NOT NULL,
    revoke_reason text DEFAULT ''::text NOT NULL,
    reworked_from bigint,
    psk_wrapped text,
    cpsk_wrapped text,
    preenrolled_by text DEFAULT ''::text NOT NULL
)
WITH (fillfactor='90');


--
-- Name: lots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.lots (
    lot text NOT NULL,
    first_id bigint NOT NULL,
    last_id bigint NOT NULL
);


--
-- Name: schema_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_versions (
    version integer NOT NULL,
    applied_at bigint NOT NULL
);


--
-- Name: stations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stations (
    name text NOT NULL,
    fingerprint text NOT NULL,
    cert_pem text NOT NULL,
    added_at bigint NOT NULL
);


--
-- Name: audit id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit ALTER COLUMN id SET DEFAULT nextval('public.audit_id_seq'::regclass);


--
-- Data for Name: attempt_limits; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.attempt_limits (subject, failures, window_start, locked_until) FROM stdin;
dev:00000107	1	1009	0
ip:198.51.100.1	1	1009	0
\.


--
-- Data for Name: audit; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.audit (id, at, devid, event, client, detail) FROM stdin;
1	0	\N	lot-quota	admin	lot-1 00000100..000001ff
2	0	\N	lot-quota	admin	lot-2 00000200..000002ff
3	11	\N	station-added	admin	st1 69cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf
4	356	256	stored	st1	record st1-256
5	357	257	stored	st1	record st1-257
6	1001	257	mapped	c1	controller 192.0.2.1 port 5684 fingerprint e147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147
7	358	258	stored	st1	record st1-258
8	1002	258	mapped	c1	controller 198.51.100.7 port 61616 fingerprint 58be158be158be158be158be158be158be158be158be158be158be158be158be
9	1003	258	registered	coap	
10	359	259	stored	st1	record st1-259
11	1004	259	pre-enrolled	station st1	controller 203.0.113.9 port 5684 fingerprint cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf25
12	360	260	stored	st1	record st1-260
13	1005	260	mapped	c2	controller 192.0.2.2 port 5684 fingerprint 369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369c
14	1006	260	revoked	admin	stolen from the van
15	361	261	stored	st1	record st1-261, reworked from 00000104
16	362	262	stored	st1	record st1-262
17	1007	262	mapped	c3	controller 192.0.2.3 port 5683 fingerprint ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad03
18	363	263	stored	st1	record st1-263
19	1008	263	otp-wrong	198.51.100.1	GET
20	1009	263	otp-wrong	198.51.100.1	GET
21	612	512	stored	st1	record st1-512
22	1010	512	revoked	station st1	scrapped
\.


--
-- Data for Name: boxes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.boxes (box, lot, first_id, last_id) FROM stdin;
7	lot-1	256	271
\.


--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.devices (devid, urn, fingerprint, otp_hash, lot, box, station, record_id, record_digest, signature, firmware_sha256, created, state, cip, cport, cfingerprint, description, inserted_at, updated_at, failures, mcu_uid, revoked_at, revoked_by, revoke_reason, reworked_from, psk_wrapped, cpsk_wrapped, preenrolled_by) FROM stdin;
256	urn:dev:ops:32473-sensor-00000100	7ad037ad037ad037ad037ad037ad037ad037ad037ad037ad037ad037ad037ad0	1f30415263748596a7b8c9daebfc0d1e2f405162738495a6b7c8d9eafb0c1d2e	lot-1	7	st1	st1-256	e147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147	MEUCIQ1+/=	58be158be158be158be158be158be158be158be158be158be158be158be158be	2026-11-23T07:00:01Z	not-mapped	\N	\N	\N		356	356	0	002d00303334510b32313533	0			\N	\N	\N	
257	urn:dev:ops:32473-sensor-00000101	e147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147	3e4f60718293a4b5c6d7e8f90a1b2c3d4e5f708192a3b4c5d6e7f8091a2b3c4d	lot-1	\N	st1	st1-257	58be158be158be158be158be158be158be158be158be158be158be158be158be	MEUCIQ2+/=	cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf25	2026-11-23T07:00:02Z	mapped	192.0.2.1	5684	e147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147ae147	kitchen	357	1001	0	\N	0			\N	\N	\N	
263	urn:dev:ops:32473-sensor-00000107	8be148be148be148be148be148be148be148be148be148be148be148be148be1	f8091a2b3c4d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f90a1b2c3d4e5f607	lot-1	\N	st1	st1-263	f258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258	MEUCIQ8+/=	69cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf	2026-11-23T07:00:08Z	not-mapped	\N	\N	\N		363	363	0	\N	0			\N	\N	\N	
258	urn:dev:ops:32473-sensor-00000102	58be158be158be158be158be158be158be158be158be158be158be158be158be	5d6e7f90a1b2c3d4e5f60718293a4b5c6d7e8fa0b1c2d3e4f5061728394a5b6c	lot-1	\N	st1	st1-258	cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf25	MEUCIQ3+/=	369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369c	2026-11-23T07:00:03Z	registered	198.51.100.7	61616	58be158be158be158be158be158be158be158be158be158be158be158be158be		358	1003	0	\N	0			\N	\N	\N	
259	urn:dev:ops:32473-sensor-00000103	cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf25	7c8d9eafc0d1e2f30415263748596a7b8c9daebfd0e1f2031425364758697a8b	lot-1	\N	st1	st1-259	369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369c	MEUCIQ4+/=	ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad03	2026-11-23T07:00:04Z	mapped	203.0.113.9	5684	cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf258cf25	line 3	359	1004	0	\N	0			\N	\N	\N	st1
260	urn:dev:ops:32473-sensor-00000104	369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369c	9bacbdcedff00112233445566778899aabbccddeef00112233445566778899aa	lot-1	\N	st1	st1-260	ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad03	MEUCIQ5+/=	147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147a	2026-11-23T07:00:05Z	revoked	192.0.2.2	5684	369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369cf369c		360	1006	0	00aa00303334510b32313533	1006	admin	stolen from the van	\N	\N	\N	
261	urn:dev:ops:32473-sensor-00000105	ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad03	bacbdcedfe0f2031425364758697a8b9cadbecfd0e1f30415263748596a7b8c9	lot-1	\N	st1	st1-261	147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147a	MEUCIQ6+/=	8be148be148be148be148be148be148be148be148be148be148be148be148be1	2026-11-23T07:00:06Z	not-mapped	\N	\N	\N		361	361	0	00aa00303334510b32313533	0			260	\N	\N	
512	urn:dev:ops:32473-sensor-00000200	f258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258	1728394a5b6c7d8e9fb0c1d2e3f405162738495a6b7c8d9eafc0d1e2f3041526	lot-2	\N	st1	st1-512	69cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf	MEUCIQ9+/=	d0369d0369d0369d0369d0369d0369d0369d0369d0369d0369d0369d0369d036	2026-11-23T07:00:09Z	revoked	\N	\N	\N		612	1010	0	\N	1010	station st1	scrapped	\N	\N	\N	
262	urn:dev:ops:32473-sensor-00000106	147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147ad147a	d9eafb0c1d2e3f5061728394a5b6c7d8e9fa0b1c2d3e4f60718293a4b5c6d7e8	lot-1	\N	st1	st1-262	8be148be148be148be148be148be148be148be148be148be148be148be148be1	MEUCIQ7+/=	f258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258bf258	2026-11-23T07:00:07Z	mapped	192.0.2.3	5683	ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad036ad03	psk	362	1007	0	\N	0			\N	psk-wrapped-8be148be148be148be148be148be148be148be14	cpsk-wrapped-f258bf258bf258bf258bf258bf258bf258bf258b	
\.


--
-- Data for Name: lots; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.lots (lot, first_id, last_id) FROM stdin;
lot-1	256	511
lot-2	512	767
\.


--
-- Data for Name: schema_versions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_versions (version, applied_at) FROM stdin;
1	0
2	0
3	0
4	0
5	0
6	0
7	0
8	0
9	0
\.


--
-- Data for Name: stations; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.stations (name, fingerprint, cert_pem, added_at) FROM stdin;
st1	69cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf269cf	-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n	11
\.


--
-- Name: audit_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_id_seq', 22, true);


--
-- Name: attempt_limits attempt_limits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attempt_limits
    ADD CONSTRAINT attempt_limits_pkey PRIMARY KEY (subject);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);


--
-- Name: boxes boxes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.boxes
    ADD CONSTRAINT boxes_pkey PRIMARY KEY (box);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (devid);


--
-- Name: devices devices_record_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_record_id_key UNIQUE (record_id);


--
-- Name: devices devices_urn_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_urn_key UNIQUE (urn);


--
-- Name: lots lots_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lots
    ADD CONSTRAINT lots_pkey PRIMARY KEY (lot);


--
-- Name: schema_versions schema_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_versions
    ADD CONSTRAINT schema_versions_pkey PRIMARY KEY (version);


--
-- Name: stations stations_fingerprint_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stations
    ADD CONSTRAINT stations_fingerprint_key UNIQUE (fingerprint);


--
-- Name: stations stations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stations
    ADD CONSTRAINT stations_pkey PRIMARY KEY (name);


--
-- Name: audit_devid_event; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_devid_event ON public.audit USING btree (devid, event);


--
-- Name: devices_board; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX devices_board ON public.devices USING btree ((((substr(mcu_uid, 17, 8) || substr(mcu_uid, 9, 8)) || substr(mcu_uid, 1, 8))));


--
-- Name: devices_box; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX devices_box ON public.devices USING btree (box);


--
-- Name: devices_lot; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX devices_lot ON public.devices USING btree (lot);


--
-- Name: audit audit_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_no_change BEFORE DELETE OR UPDATE ON public.audit FOR EACH ROW EXECUTE FUNCTION public.audit_append_only();


--
-- PostgreSQL database dump complete
--


