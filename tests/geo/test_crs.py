"""Coordinate systems: whatever a source declares, the layer holds WGS 84 lon/lat (issue 18, 12)."""

import json

import pytest
from django.core.exceptions import ValidationError

from sensorgrid.geo.models import Feature, RunStatus
from sensorgrid.geo.pipelines import runner
from tests.geo.wfs_service import SIGHTS, WFS


def points(pipeline) -> dict[str, list[float]]:
    return {
        f.properties.get("titel") or f.properties.get("name") or f.external_id: [
            round(c, 4) for c in f.geometry["coordinates"]
        ]
        for f in Feature.objects.filter(layer=pipeline.layer)
    }


WGS84 = {name: [round(lon, 4), round(lat, 4)] for name, _, _, lon, lat in SIGHTS}


def test_a_wfs_offering_only_utm_is_asked_for_it_and_reprojected(sources, make_pipeline):
    service = WFS([(name, x, y) for name, x, y, _, _ in SIGHTS])
    sources.serve("wfs", service)
    pipeline = make_pipeline("wfs", {"url": sources.url("wfs"), "type_name": "ms:baustellen"})

    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert points(pipeline) == WGS84
    get_feature = service.requests[-1]
    assert get_feature["srsname"] == "urn:ogc:def:crs:EPSG::25833"  # what it offers
    assert get_feature["outputformat"] == "application/json"  # GeoJSON is preferred


def test_gml_in_utm_is_reprojected(sources, make_pipeline):
    service = WFS([(name, x, y) for name, x, y, _, _ in SIGHTS], formats=("text/xml",))
    sources.serve("wfs", service)
    pipeline = make_pipeline("wfs", {"url": sources.url("wfs"), "type_name": "baustellen"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert points(pipeline) == WGS84


@pytest.mark.parametrize(
    ("srs", "version", "first", "second"),
    [
        ("urn:ogc:def:crs:EPSG::4326", "2.0.0", 52.520803, 13.409419),  # latitude first
        ("http://www.opengis.net/def/crs/EPSG/0/4326", "2.0.0", 52.520803, 13.409419),
        ("EPSG:4326", "2.0.0", 52.520803, 13.409419),  # EPSG's definition: lat, lon
        ("EPSG:4326", "1.0.0", 13.409419, 52.520803),  # WFS 1.0 is always x/y
        ("http://www.opengis.net/gml/srs/epsg.xml#4326", "2.0.0", 13.409419, 52.520803),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "2.0.0", 13.409419, 52.520803),  # CRS84: lon, lat
        ("urn:ogc:def:crs:EPSG::3857", "2.0.0", 1492729.69, 6894846.71),
        ("EPSG:31468", "2.0.0", 5821787.94, 4595770.41),  # Gauss-Krüger: northing first
    ],
)
def test_gml_axis_order_follows_the_declared_system(
    sources, make_pipeline, srs, version, first, second
):
    service = WFS([("Fernsehturm", first, second)], srs=srs, formats=("text/xml",))
    sources.serve("wfs", service)
    pipeline = make_pipeline(
        "wfs", {"url": sources.url("wfs"), "type_name": "baustellen", "version": version}
    )
    run = runner.run(pipeline)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert points(pipeline) == {"Fernsehturm": [13.4094, 52.5208]}


def test_a_geojson_crs_member_is_honoured(sources, make_pipeline):
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [
            {
                "type": "Feature",
                "id": "dom",
                "geometry": {"type": "Point", "coordinates": [356538.26, 5645249.36]},
                "properties": {"name": "Kölner Dom"},
            }
        ],
    }
    sources.answer("koeln.geojson", json.dumps(collection))
    pipeline = make_pipeline("geojson", {"url": sources.url("koeln.geojson")})
    run = runner.run(pipeline)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert points(pipeline) == {"Kölner Dom": [6.958, 50.941]}


def test_csv_columns_and_wkt_in_the_srs_option_are_reprojected(sources, make_pipeline):
    sources.answer(
        "utm.csv",
        "id;name;rechtswert;hochwert;shape\n"
        "1;Fernsehturm;392081,04;5820154,85;\n"
        '2;Brandenburger Tor;;;"POINT (389918.04 5819699.13)"\n',
    )
    pipeline = make_pipeline(
        "csv",
        {
            "url": sources.url("utm.csv"),
            "srs": "EPSG:25833",
            "mapping": {"id": "id", "lon": "rechtswert", "lat": "hochwert"},
        },
    )
    run = runner.run(pipeline)
    assert points(pipeline) == {"Fernsehturm": [13.4094, 52.5208]}
    assert run.skipped == 1  # row 2 has no columns; its WKT is read with mapping.geometry

    pipeline.options["mapping"] = {"id": "id", "geometry": "shape"}
    pipeline.save()
    run = runner.run(pipeline, progress=lambda *a: None)
    assert points(pipeline)["Brandenburger Tor"] == [13.3777, 52.5163]


def test_coordinates_outside_the_systems_area_of_use_are_skipped_with_a_hint(
    sources, make_pipeline
):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": c}}
            for c in ([392081.04, 5820154.85], [13.409419, 52.520803], [5820154.85, 392081.04])
        ],
    }
    sources.answer("mixed.geojson", json.dumps(collection))
    pipeline = make_pipeline("geojson", {"url": sources.url("mixed.geojson"), "srs": "EPSG:25833"})
    run = runner.run(pipeline)
    assert Feature.objects.filter(layer=pipeline.layer).count() == 1
    assert run.skipped == 2  # degrees taken for metres; easting and northing swapped
    assert run.log.count("outside the area of use of EPSG:25833") == 2
    assert "axis_order" in run.log


def test_unknown_option_names_and_systems_are_refused_when_saved(make_pipeline):
    pipeline = make_pipeline("wfs", {"url": "https://example.org/wfs", "type_name": "x"})
    pipeline.options = {"url": "https://example.org/wfs", "type_name": "x", "cuont": 10}
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    message = caught.value.message_dict["options"][0]
    assert "unknown option 'cuont' (did you mean 'count'?)" in message

    pipeline.options = {"url": "https://example.org/wfs", "type_name": "x", "srs": "EPSG:0"}
    with pytest.raises(ValidationError, match="unknown coordinate system 'EPSG:0'"):
        pipeline.full_clean()


def test_a_feature_type_the_service_does_not_offer_is_named_with_those_it_offers(
    sources, make_pipeline
):
    sources.serve("wfs", WFS([]))
    pipeline = make_pipeline("wfs", {"url": sources.url("wfs"), "type_name": "ms:baustelle"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert "offers no feature type 'ms:baustelle'; it offers: ms:baustellen" in run.error


def test_crs84_is_preferred_when_the_service_offers_it(sources, make_pipeline):
    offered = ("urn:ogc:def:crs:EPSG::25833", "urn:ogc:def:crs:OGC:1.3:CRS84")
    service = WFS(
        [("Fernsehturm", 13.409419, 52.520803)],
        srs="urn:ogc:def:crs:OGC:1.3:CRS84",
        offered_crs=offered,
        formats=("text/xml; subtype=gml/3.2",),
    )
    sources.serve("wfs", service)
    pipeline = make_pipeline("wfs", {"url": sources.url("wfs"), "type_name": "baustellen"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert points(pipeline) == {"Fernsehturm": [13.4094, 52.5208]}
    assert service.requests[-1]["srsname"] == "urn:ogc:def:crs:OGC:1.3:CRS84"
    assert service.requests[-1]["outputformat"] == "text/xml; subtype=gml/3.2"
