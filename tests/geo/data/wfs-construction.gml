<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2"
    xmlns:city="https://gdi.example.org/city"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    numberMatched="4" numberReturned="4" timeStamp="2026-11-20T10:22:40Z">
  <wfs:member>
    <city:baustellen gml:id="baustellen.1041">
      <gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>52.52 13.40</gml:lowerCorner><gml:upperCorner>52.52 13.40</gml:upperCorner></gml:Envelope></gml:boundedBy>
      <city:titel>Leitungsbau Karl-Liebknecht-Straße</city:titel>
      <city:beginn>2026-10-01</city:beginn>
      <city:ende>2027-03-31</city:ende>
      <city:einschraenkung>Fahrstreifen gesperrt</city:einschraenkung>
      <city:geom>
        <gml:Point gml:id="p1041" srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>52.5215 13.4092</gml:pos></gml:Point>
      </city:geom>
    </city:baustellen>
  </wfs:member>
  <wfs:member>
    <city:baustellen gml:id="baustellen.1042">
      <city:titel>Sanierung Fahrbahn Unter den Linden</city:titel>
      <city:beginn>2026-11-15</city:beginn>
      <city:ende>2026-12-20</city:ende>
      <city:geom>
        <gml:LineString gml:id="l1042" srsName="urn:ogc:def:crs:EPSG::4326">
          <gml:posList srsDimension="2">52.5170 13.3889 52.5168 13.3925 52.5165 13.3960</gml:posList>
        </gml:LineString>
      </city:geom>
    </city:baustellen>
  </wfs:member>
  <wfs:member>
    <city:baustellen gml:id="baustellen.1043">
      <city:titel>Neubau Schule Alexanderplatz</city:titel>
      <city:beginn>2025-05-01</city:beginn>
      <city:ende>2028-08-31</city:ende>
      <city:geom>
        <gml:Polygon gml:id="a1043" srsName="urn:ogc:def:crs:EPSG::4326">
          <gml:exterior><gml:LinearRing><gml:posList>52.5230 13.4120 52.5230 13.4140 52.5240 13.4140 52.5240 13.4120 52.5230 13.4120</gml:posList></gml:LinearRing></gml:exterior>
          <gml:interior><gml:LinearRing><gml:posList>52.5233 13.4125 52.5233 13.4130 52.5236 13.4130 52.5236 13.4125 52.5233 13.4125</gml:posList></gml:LinearRing></gml:interior>
        </gml:Polygon>
      </city:geom>
    </city:baustellen>
  </wfs:member>
  <wfs:member>
    <city:baustellen gml:id="baustellen.1044">
      <city:titel>Ohne Ortsangabe</city:titel>
      <city:beginn>2026-01-01</city:beginn>
    </city:baustellen>
  </wfs:member>
</wfs:FeatureCollection>
